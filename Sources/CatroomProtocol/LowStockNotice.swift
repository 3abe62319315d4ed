import CatroomXML

/// `<low-stock xmlns='urn:catroom:bundles:0' remaining='9'/>` (CR-0004 §5.4): a fetch
/// left the owner fewer one-time prekeys than `threshold`.
public struct LowStockNotice: Sendable, Equatable {
    /// A fetch that leaves fewer one-time prekeys than this sends the notice (CR-0004 §7).
    public static let threshold = 10

    /// One-time prekeys the server still holds for the owner.
    public let remaining: Int

    public init(remaining: Int) {
        self.remaining = remaining
    }

    /// Parses a received notice; nil when `remaining` is missing, not plain decimal, or not
    /// below `threshold` (CR-0004 §5.4). Such a notice is malformed and ignored, so no
    /// notice can make the owner publish more than fits.
    public init?(_ element: XML.Element) {
        guard element.name == "low-stock", element.namespace == Namespace.bundles,
              let remaining = element.attribute("remaining").flatMap(BundleElement.decimal), remaining < Self.threshold
        else { return nil }
        self.remaining = Int(remaining)
    }

    /// How many new one-time prekeys a refill publishes: as many as fit (CR-0004 §5.4).
    public var refill: Int { BundleElement.capacity - remaining }

    public var element: XML.Element {
        XML.Element("low-stock", namespace: Namespace.bundles, attributes: [XML.Attribute("remaining", value: String(remaining))])
    }
}
