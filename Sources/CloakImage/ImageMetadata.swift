/// Metadata found in an input file, and (through `EncodeOptions`) offered to the encoder.
///
/// What the encoder does with it is decided in one place, `EncodeOptions`:
/// * By default outputs carry **no** EXIF, GPS, XMP or comment.
/// * With `keepMetadata`, outputs carry the non-location part: EXIF re-serialised by `EXIF.sanitized`
///   (IFD0 + Exif sub-IFD; no GPS IFD, no MakerNote, no thumbnail, Orientation = 1), the comment, and XMP
///   only when it mentions nothing location-like (see `ImageMetadata.xmpMentionsLocation`).
/// * The ICC profile is colour data, not personal data: it is written to JPEG outputs whenever present,
///   so JPEG -> JPEG keeps colours as the author meant. (PNG iCCP is not read, so PNG inputs have none,
///   and PNG outputs never carry one.)
public struct ImageMetadata: Sendable, Equatable {
    /// EXIF orientation of the stored pixels, 1...8 (1 = as stored; also when there is no EXIF).
    public var orientation: Int
    /// The raw EXIF TIFF structure (starting `II*\0` or `MM\0*`) exactly as found, or `nil`.
    public var exif: [UInt8]?
    /// True when the EXIF IFD0 has a GPS IFD pointer (tag 0x8825).
    public var hasGPS: Bool
    /// The XMP packet (XML bytes, without the JPEG namespace header), or `nil`.
    public var xmp: [UInt8]?
    /// JPEG COM segment or PNG `tEXt`/`iTXt` "Comment", as text, or `nil`.
    public var comment: String?
    /// The ICC colour profile (JPEG APP2 `ICC_PROFILE` chunks joined), or `nil`.
    public var iccProfile: [UInt8]?

    public init(orientation: Int = 1, exif: [UInt8]? = nil, hasGPS: Bool = false, xmp: [UInt8]? = nil,
                comment: String? = nil, iccProfile: [UInt8]? = nil) {
        self.orientation = orientation
        self.exif = exif
        self.hasGPS = hasGPS
        self.xmp = xmp
        self.comment = comment
        self.iccProfile = iccProfile
    }

    /// Fills `orientation` and `hasGPS` from `exif`.
    mutating func readEXIFFields() {
        guard let exif, let tiff = EXIF.parse(exif) else { return }
        orientation = tiff.orientation
        hasGPS = tiff.hasGPS
    }

    /// True when an XMP packet may hold a location: it mentions `GPS` in any case (covers `exif:GPS...`,
    /// `exifEX:GPS...`, drone vendors' `GpsLatitude`), or IPTC/Photoshop place fields (`photoshop:City`,
    /// `photoshop:State`, `photoshop:Country`, `Iptc4xmpCore:Location`, `LocationCreated`,
    /// `LocationShown`). Such XMP is dropped even with `keepMetadata`: rewriting XML safely is out of
    /// scope, and dropping errs on the side of privacy.
    public static func xmpMentionsLocation(_ xmp: [UInt8]) -> Bool {
        let text = String(decoding: xmp, as: UTF8.self).lowercased()
        let needles = ["gps", "photoshop:city", "photoshop:state", "photoshop:country",
                       "iptc4xmpcore:location", "locationcreated", "locationshown"]
        return needles.contains { text.contains($0) }
    }
}
