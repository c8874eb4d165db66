import Crypto

/// SHA-256 of checkpoint bytes, through swift-crypto (the same hash the provenance store uses).
enum ContentHash {
    /// The 32-byte digest of `bytes`.
    static func sha256(_ bytes: [UInt8]) -> [UInt8] {
        Array(SHA256.hash(data: bytes))
    }

    /// The digest as 64 lower-case hex digits.
    static func sha256Hex(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef")
        return String(sha256(bytes).flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 0xf)]] })
    }
}
