import Trainer
import XCTest

/// μP is implemented right when activations stop depending on width (Tensor Programs V, §D "coordinate check").
final class CoordinateCheckTests: XCTestCase {
    /// Widths 64…512, 8 Adam steps at lr 1e-2 on one batch. Spread = max/min over widths of a module's mean |output|
    /// at the last step. Measured on this code: μP 1.11–1.31, SP 4.7–361 (SP grows with width: each Adam update
    /// moves every weight by ~lr and a fan-in of d sums d such moves). Breaking one μP rule — hidden-matrix LR η
    /// instead of η/m — raised the μP spread to 3.8 (attention) and 5.9 (MLP), so the bound μP < 1.5 separates a
    /// correct implementation from a broken one; SP > 3 and > 3× μP checks that the SP control really grows.
    func testMuPIsFlatInWidthWhileSPGrows() throws {
        let s = CoordinateCheck.Settings()
        XCTAssertEqual(s.widths, [64, 128, 256, 512])
        let records = try CoordinateCheck.run(s)
        for module in ["h.1.attn", "h.1.mlp", "h.1.residual", "logits"] {
            let mup = CoordinateCheck.spread(records, parametrization: "mup", module: module, step: s.steps)
            let sp = CoordinateCheck.spread(records, parametrization: "sp", module: module, step: s.steps)
            XCTAssertLessThan(mup, 1.5, "\(module): μP spread \(mup) across widths is not flat")
            XCTAssertGreaterThan(sp, 3, "\(module): SP spread \(sp) should grow with width (is the control broken?)")
            XCTAssertGreaterThan(sp, 3 * mup, module)
        }
    }
}
