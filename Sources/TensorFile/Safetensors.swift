import Foundation

/// The safetensors format (huggingface/safetensors): an 8-byte little-endian header length N, N bytes of JSON
/// header `{name: {"dtype": "F32", "shape": [...], "data_offsets": [begin, end]}, "__metadata__": {...}}`, then
/// the raw little-endian tensor bytes. Loadable in PyTorch with `safetensors.torch.load_file`.
public enum Safetensors {
    public struct Tensor: Equatable {
        public var name: String
        public var shape: [Int]
        public var values: [Float]
        public init(name: String, shape: [Int], values: [Float]) { self.name = name; self.shape = shape; self.values = values }
    }

    public enum Error: Swift.Error, CustomStringConvertible {
        case corrupt(path: String, reason: String)
        public var description: String {
            switch self {
            case let .corrupt(path, reason):
                return
                    "\(path): not a valid safetensors checkpoint (\(reason)). Fix: use a checkpoint written by `ablate train`, or delete it and resume from an earlier one."
            }
        }
    }

    /// Stored element type: F32 (checkpoints) or F16 (embedding snapshots, half the size; values are rounded to
    /// nearest, relative error ≤ 2⁻¹¹).
    public enum DType: String, Sendable {
        case f32 = "F32", f16 = "F16"
        var width: Int { self == .f32 ? 4 : 2 }
    }

    /// Serialises tensors (in the given order) with string metadata, as F32 unless `dtype` says F16.
    public static func encode(
        _ tensors: [(name: String, shape: [Int], data: UnsafeBufferPointer<Float>)],
        metadata: [String: String] = [:], dtype: DType = .f32
    ) -> Data {
        var header = "{"
        var offset = 0
        var entries: [String] = []
        if !metadata.isEmpty {
            let meta = metadata.keys.sorted().map { "\(quote($0)):\(quote(metadata[$0]!))" }.joined(separator: ",")
            entries.append("\"__metadata__\":{\(meta)}")
        }
        for t in tensors {
            let bytes = t.data.count * dtype.width
            entries.append(
                "\(quote(t.name)):{\"dtype\":\"\(dtype.rawValue)\",\"shape\":[\(t.shape.map(String.init).joined(separator: ","))],\"data_offsets\":[\(offset),\(offset + bytes)]}"
            )
            offset += bytes
        }
        header += entries.joined(separator: ",") + "}"
        // Pad the header with spaces so tensor data starts 8-byte aligned (as the reference implementation does).
        while (header.utf8.count + 8) % 8 != 0 { header += " " }
        var data = Data(capacity: 8 + header.utf8.count + offset)
        var n = UInt64(header.utf8.count).littleEndian
        withUnsafeBytes(of: &n) { data.append(contentsOf: $0) }
        data.append(contentsOf: Array(header.utf8))
        #if _endian(big)
            fatalError("big-endian hosts are not supported")
        #endif
        for t in tensors {
            if dtype == .f16 {
                let half = t.data.map(HalfPrecision.bits)
                half.withUnsafeBytes { data.append(contentsOf: $0) }
                continue
            }
            t.data.withMemoryRebound(to: UInt8.self) { raw in
                data.append(contentsOf: UnsafeRawBufferPointer(raw))
            }
        }
        return data
    }

    /// Parses a safetensors file; every entry must be F32 or F16 (widened to Float) with consistent offsets.
    public static func decode(_ data: Data, path: String) throws -> (tensors: [Tensor], metadata: [String: String]) {
        guard data.count >= 8 else { throw Error.corrupt(path: path, reason: "file is \(data.count) bytes, shorter than the header length field") }
        let n = data.prefix(8).withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }.littleEndian
        guard n > 0, n <= UInt64(data.count - 8) else {
            throw Error.corrupt(path: path, reason: "header length \(n) exceeds the file size \(data.count)")
        }
        let headerData = data.subdata(in: 8..<(8 + Int(n)))
        guard let header = try? JSONSerialization.jsonObject(with: headerData) as? [String: Any] else {
            throw Error.corrupt(path: path, reason: "header is not a JSON object")
        }
        let body = data.subdata(in: (8 + Int(n))..<data.count)
        var metadata: [String: String] = [:]
        var tensors: [(Int, Tensor)] = []
        for (name, value) in header {
            if name == "__metadata__" {
                metadata = (value as? [String: String]) ?? [:]
                continue
            }
            guard let entry = value as? [String: Any], let dtype = entry["dtype"] as? String,
                let shape = entry["shape"] as? [Int], let offsets = entry["data_offsets"] as? [Int], offsets.count == 2
            else {
                throw Error.corrupt(path: path, reason: "entry '\(name)' is malformed")
            }
            guard let type = DType(rawValue: dtype) else {
                throw Error.corrupt(path: path, reason: "tensor '\(name)' has dtype \(dtype), expected F32 or F16")
            }
            // Every number comes from the file: checked for sign and overflow before it sizes or indexes anything.
            guard shape.allSatisfy({ $0 >= 0 }) else {
                throw Error.corrupt(path: path, reason: "tensor '\(name)' has a negative dimension in shape \(shape)")
            }
            var count = 1
            for dim in shape + [type.width] {
                let (product, overflow) = count.multipliedReportingOverflow(by: dim)
                guard !overflow, product <= body.count else {
                    throw Error.corrupt(
                        path: path, reason: "tensor '\(name)' of shape \(shape) is larger than the file (\(body.count) bytes of data)")
                }
                count = product
            }
            let bytes = count
            count /= type.width
            let (begin, end) = (offsets[0], offsets[1])
            guard begin >= 0, begin <= end, end <= body.count, end - begin == bytes else {
                throw Error.corrupt(
                    path: path, reason: "tensor '\(name)' data [\(begin), \(end)) does not fit the file or its shape \(shape) (truncated?)")
            }
            var values = [Float](repeating: 0, count: count)
            if type == .f16 {
                body.withUnsafeBytes { src in
                    for i in 0..<count {
                        values[i] = HalfPrecision.value(
                            UInt16(littleEndian: src.loadUnaligned(fromByteOffset: begin + 2 * i, as: UInt16.self)))
                    }
                }
            } else {
                values.withUnsafeMutableBytes { dst in
                    body.withUnsafeBytes { src in dst.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[begin..<end])) }
                }
            }
            tensors.append((begin, Tensor(name: name, shape: shape, values: values)))
        }
        return (tensors.sorted { $0.0 < $1.0 }.map(\.1), metadata)
    }

    private static func quote(_ s: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [s], options: [.withoutEscapingSlashes])
        let text = String(decoding: data, as: UTF8.self)
        return String(text.dropFirst().dropLast())
    }
}
