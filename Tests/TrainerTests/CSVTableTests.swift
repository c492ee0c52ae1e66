import Foundation
import RunFormat
import Trainer
import XCTest

final class CSVTableTests: XCTestCase {
    func testQuotingMissingValuesAndNumbers() {
        let table = CSVTable(
            columns: ["id", "note", "n", "x", "ok"],
            rows: [
                ["id": .text("a"), "note": .text("plain"), "n": .integer(3), "x": .number(0.25), "ok": .bool(true)],
                ["id": .text("b,c"), "note": .text("say \"hi\"\nnext line"), "x": .number(.nan), "ok": .bool(false)],
                ["id": .text(" padded "), "note": .text(""), "n": .missing, "x": .number(-.infinity)],
            ])
        XCTAssertEqual(
            table.text,
            """
            id,note,n,x,ok
            a,plain,3,0.25,true
            "b,c","say ""hi""
            next line",,nan,false
            " padded ","",,-inf,

            """)
    }

    func testHeaderIsQuotedToo() {
        XCTAssertEqual(CSVTable(columns: ["a,b", "c"], rows: []).text, "\"a,b\",c\n")
    }

    func testFlattenNestedObjectsWithDotsAndArraysAsJSON() {
        let json: [String: JSONValue] = [
            "config": .object(["seed": .int(1), "strategy_options": .object(["ngram_sizes": .array([.int(1), .int(2)])])]),
            "reason": .null, "empty": .object([:]), "loss": .double(1.5), "name": .string("x"),
        ]
        let flat = CSVTable.flatten(json, prefix: "run")
        XCTAssertEqual(flat["run.config.seed"], .integer(1))
        XCTAssertEqual(flat["run.config.strategy_options.ngram_sizes"], .text("[1,2]"))
        XCTAssertEqual(flat["run.reason"], .missing)
        XCTAssertEqual(flat["run.empty"], .text("{}"))
        XCTAssertEqual(flat["run.loss"], .number(1.5))
        XCTAssertEqual(flat["run.name"], .text("x"))
        XCTAssertEqual(flat.count, 6)
    }
}
