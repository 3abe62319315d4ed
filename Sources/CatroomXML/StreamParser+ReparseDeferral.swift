import CExpat

// expat re-scans an unfinished token from its start on every `XML_Parse` call, so
// one big token (a start tag with a long attribute value) fed a byte at a time costs
// time quadratic in its size (CVE-2023-52425, SECURITY-CASES XS-09). expat's own fix,
// reparse deferral, waits for a lot more input before looking again and so stalls
// complete stanzas; it is switched off (see shim.h) and replaced here by a deferral
// that knows where a token can end. While a large token is unfinished, new bytes are
// held back unless they could end it, or unless as many bytes are held as expat
// already holds: each byte is then re-scanned a bounded number of times, and a
// complete stanza is never held.

extension XML.StreamParser {
    /// Unfinished tokens up to this size are simply re-scanned: cheaper than deciding.
    static let cheapRescanBytes = 2048

    /// Whether to hold `bytes` back from expat for now.
    func shouldHold(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let tokenStart = Int(XML_GetCurrentByteIndex(parser))
        guard tokenStart >= 0 else { return false }
        let pending = parsedBytes - tokenStart
        guard pending + heldBytes.count > Self.cheapRescanBytes, heldBytes.count + bytes.count < pending else {
            return false
        }
        guard var scan = caughtUpScan(tokenStart: tokenStart) else { return false }
        let mayEnd = scan.mayEnd(in: bytes)
        tokenScan = scan
        return !mayEnd
    }

    /// The scan of the unfinished token, brought up to the end of the held bytes.
    private func caughtUpScan(tokenStart: Int) -> TokenScan? {
        var offset: Int32 = 0
        var size: Int32 = 0
        guard let context = XML_GetInputContext(parser, &offset, &size), Int(size - offset) == parsedBytes - tokenStart else {
            return nil
        }
        let pendingBytes = UnsafeRawBufferPointer(start: context + Int(offset), count: Int(size - offset))
        var scan = TokenScan(start: tokenStart, firstByte: pendingBytes[0])
        if let known = tokenScan, known.start == tokenStart {
            scan = known
        }
        // Bytes expat already has but this scan has not seen (passed on without holding).
        if scan.scannedTo < parsedBytes {
            _ = scan.mayEnd(in: UnsafeRawBufferPointer(rebasing: pendingBytes[(scan.scannedTo - tokenStart)...]))
        }
        heldBytes.withUnsafeBytes { held in
            let unseen = scan.scannedTo - parsedBytes
            if unseen < held.count {
                _ = scan.mayEnd(in: UnsafeRawBufferPointer(rebasing: held[unseen...]))
            }
        }
        return scan
    }
}

extension XML.StreamParser {
    /// Follows an unfinished token byte by byte to tell whether later bytes could end it.
    ///
    /// It over-approximates: it may say a token could end where it does not (then it is
    /// just parsed), but never the reverse for a well-formed token, so nothing valid waits.
    struct TokenScan {
        enum Kind {
            /// A tag or other markup starting with `<`: ends at a `>` outside quotes.
            case markup
            /// An entity or character reference: ends at `;`.
            case reference
            /// A run of name bytes (a DOCTYPE name, say): ends at the first other byte.
            case name
            /// Anything else, assumed to be able to end anywhere.
            case unknown
        }

        /// Position of the token's first byte since the last reset.
        let start: Int
        /// Position up to which bytes have been scanned.
        var scannedTo: Int
        let kind: Kind
        /// The quote character of an attribute value being scanned, or 0.
        var quote: UInt8 = 0

        init(start: Int, firstByte: UInt8) {
            self.start = start
            scannedTo = start
            kind = switch firstByte {
            case UInt8(ascii: "<"): .markup
            case UInt8(ascii: "&"): .reference
            case _ where Self.isNameByte(firstByte): .name
            default: .unknown
            }
        }

        /// Scans the next bytes; returns whether the token could end within them.
        mutating func mayEnd(in bytes: UnsafeRawBufferPointer) -> Bool {
            defer { scannedTo += bytes.count }
            switch kind {
            case .markup:
                var found = false
                for byte in bytes {
                    if quote != 0 {
                        if byte == quote { quote = 0 }
                    } else if byte == UInt8(ascii: ">") {
                        found = true
                    } else if byte == UInt8(ascii: "'") || byte == UInt8(ascii: "\"") {
                        quote = byte
                    }
                }
                return found
            case .reference:
                return bytes.contains(UInt8(ascii: ";"))
            case .name:
                return !bytes.allSatisfy(Self.isNameByte)
            case .unknown:
                return true
            }
        }

        private static func isNameByte(_ byte: UInt8) -> Bool {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."),
                UInt8(ascii: "_"), UInt8(ascii: ":"), 0x80...:
                true
            default:
                false
            }
        }
    }
}
