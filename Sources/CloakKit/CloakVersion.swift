/// The tool's version, recorded with every run.
public enum CloakVersion {
    public static let current = "0.1.0"
}
