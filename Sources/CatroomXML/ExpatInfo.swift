import CExpat

extension XML {
    /// What the linked libexpat is and which protections it was built with (SECURITY-CASES XS-14).
    ///
    /// A server logs this at start and refuses to run without `hasBillionLaughsProtection`
    /// and `hasAllocationTracker`: Debian 12 has both from 2.5.0-1+deb12u5 on, while
    /// still reporting version 2.5.0.
    public struct ExpatInfo: Sendable, Hashable {
        /// `XML_ExpatVersion()`, such as `expat_2.5.0`.
        public var version: String
        /// `XML_GetFeatureList()` as name and value, such as `XML_BLAP_MAX_AMP` = 100.
        public var features: [Feature]
        /// Whether this build can switch reparse deferral off (it has `XML_SetReparseDeferralEnabled`).
        public var hasReparseDeferralSwitch: Bool

        /// One entry of the feature list.
        public struct Feature: Sendable, Hashable {
            /// The feature's name, such as `XML_NS`.
            public var name: String
            /// Its value (a size, factor or threshold), 0 where it has none.
            public var value: Int
        }

        /// The library this process is linked against.
        public static var current: ExpatInfo {
            var features: [Feature] = []
            if var entry = XML_GetFeatureList() {
                while entry.pointee.feature != XML_FEATURE_END {
                    features.append(Feature(name: String(cString: entry.pointee.name), value: Int(entry.pointee.value)))
                    entry += 1
                }
            }
            return ExpatInfo(
                version: String(cString: XML_ExpatVersion()),
                features: features,
                hasReparseDeferralSwitch: catroom_expat_has_reparse_deferral_switch() != 0
            )
        }

        /// Whether billion-laughs protection (entity amplification limits, `XML_BLAP_*`) is built in.
        public var hasBillionLaughsProtection: Bool {
            features.contains { $0.name == "XML_BLAP_MAX_AMP" }
        }

        /// Whether the allocation tracker (`XML_AT_*`, CVE-2025-59375) is built in.
        public var hasAllocationTracker: Bool {
            features.contains { $0.name == "XML_AT_MAX_AMP" }
        }

        /// Whether it has everything the server needs; log `self` and refuse to start otherwise.
        public var meetsRequirements: Bool {
            hasBillionLaughsProtection && hasAllocationTracker
        }
    }
}
