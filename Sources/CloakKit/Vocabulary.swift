import CloakDatasetProtection
import CloakSupport
import CloakFace
import CloakImage
import CloakStore

// The types of lower modules that CloakKit's API takes or returns, each named here once, so that the `cloak`
// executable imports CloakKit alone (the module graph in docs/module-graph.txt; no `@_exported`).

/// Settings of `cloak unlearnable`'s noise (``CloakDatasetProtection/UnlearnableSettings``).
public typealias UnlearnableSettings = CloakDatasetProtection.UnlearnableSettings
/// Settings of `cloak verify` (``CloakDatasetProtection/VerifySettings``).
public typealias VerifySettings = CloakDatasetProtection.VerifySettings
/// The countermeasures `cloak verify` trains under (``CloakDatasetProtection/Countermeasure``).
public typealias Countermeasure = CloakDatasetProtection.Countermeasure
/// A setting out of range (``CloakSupport/SettingError``), named by its property name.
public typealias SettingError = CloakSupport.SettingError
/// The face cloak's strength presets (``CloakFace/CloakMode``).
public typealias CloakMode = CloakFace.CloakMode
/// The provenance store every job records into (``CloakStore/ProvenanceStore``).
public typealias ProvenanceStore = CloakStore.ProvenanceStore
/// Failures opening or reading the store (``CloakStore/StoreError``).
public typealias StoreError = CloakStore.StoreError
/// Limits on decoding untrusted images (``CloakImage/DecodeOptions``).
public typealias DecodeOptions = CloakImage.DecodeOptions
