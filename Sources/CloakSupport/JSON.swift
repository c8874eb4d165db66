import Foundation

/// JSON text with sorted keys: compact for parameters, details and job keys recorded in the store, pretty for files
/// and `--json` output. Non-finite numbers (an unchanged image's PSNR is infinite) are written as the strings
/// `"Infinity"`, `"-Infinity"` and `"NaN"`, and read back the same way by ``decoder``.
public enum JSON {
    /// Compact JSON. Throws when the value cannot be encoded (it is never replaced by a placeholder: the text is
    /// hashed into job keys).
    public static func string(_ value: some Encodable) throws -> String {
        String(decoding: try encoder([.sortedKeys, .withoutEscapingSlashes]).encode(value), as: UTF8.self)
    }

    /// Pretty-printed JSON for files and `--json` output.
    public static func pretty(_ value: some Encodable) throws -> String {
        String(decoding: try encoder([.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]).encode(value), as: UTF8.self)
    }

    /// A decoder that reads what ``string(_:)`` and ``pretty(_:)`` write.
    public static var decoder: JSONDecoder {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        decoder.nonConformingFloatDecodingStrategy = .convertFromString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return decoder
    }

    private static func encoder(_ formatting: JSONEncoder.OutputFormatting) -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = formatting
        encoder.dateEncodingStrategy = .iso8601
        encoder.nonConformingFloatEncodingStrategy = .convertToString(
            positiveInfinity: "Infinity", negativeInfinity: "-Infinity", nan: "NaN")
        return encoder
    }
}
