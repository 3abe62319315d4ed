import CExpat

extension XML {
    /// A push parser for one XML stream: bytes in, stream events out.
    ///
    /// Wraps an expat parser in namespace mode (separator U+0001, as Prosody uses:
    /// XML 1.0 forbids that character, so no name or URI can contain it). It reports the
    /// root's start tag, each complete top-level child, and the root's end tag, and
    /// enforces RFC 6120 §11 (restricted XML, UTF-8 only) and `Limits`. Whitespace
    /// between top-level children (keepalives, RFC 6120 §4.6.1) is dropped but counted
    /// in `streamWhitespaceBytes`. Bytes may arrive in any chunks, down to one byte at
    /// a time: the events are the same. Not thread-safe: one connection owns one parser.
    public final class StreamParser {
        /// The limits this parser enforces.
        public let limits: Limits

        /// Bytes of whitespace between top-level elements since creation (keepalives), counted
        /// after expat turns CR LF into LF.
        public internal(set) var streamWhitespaceBytes = 0

        /// The error that ended the stream, if one did; every later `feed` throws it.
        public private(set) var failure: StreamError?

        /// A human-readable account of `failure` for logs (expat's message and position, or the limit).
        public private(set) var failureDetail: String?

        /// expat's parser; nil while hibernating (see `hibernate()`).
        var expat: XML_Parser?
        /// Events completed during the current `feed`.
        var events: [StreamEvent] = []
        /// Open elements, counting the root: 1 between top-level elements.
        var depth = 0
        /// Open elements below the root; `openElements[0]` is the top-level one.
        var openElements: [Element] = []
        /// Character data not yet added to `openElements.last`, kept as bytes so it becomes a `String` once.
        var pendingText: [UInt8] = []
        /// Byte index (since the last reset) of the current top-level element's start tag.
        var elementStart = 0
        /// Byte index just past the last event or stream-level whitespace.
        var boundary = 0
        /// Bytes handed to expat since creation or the last reset; expat's byte indices count the same way.
        var parsedBytes = 0
        /// Bytes fed but held back from expat while a large token is unfinished (see `shouldHold`).
        var heldBytes: [UInt8] = []
        /// What is known of the unfinished token while bytes are held.
        var tokenScan: TokenScan?
        /// Bytes expat has scanned, counting re-scans of unfinished tokens; tests check it stays linear.
        var expatScannedBytes = 0
        /// The first two bytes of the document, to recognise UTF-16 and UTF-32 input.
        var leadingBytes: [UInt8] = []
        /// Recently seen namespace URIs, so each element does not allocate its own copy.
        var namespaceCache: [String] = []
        /// The document's bytes up to the end of the root's start tag, replayed to wake
        /// from hibernation; nil once they outgrow `maxHeaderBytes` (that stream never hibernates).
        var header: [UInt8]? = []
        /// Byte index just past the root's start tag, once it has been read.
        var headerEnd: Int?
        /// Whether expat is inside a CDATA section (hibernating there would lose that state).
        var inCDATA = false
        /// The root's end tag was read: the stream is over (RFC 6120 §4.4), and what follows,
        /// in the same bytes or later ones, is never parsed, so that it cannot turn the close
        /// into an error in one read and not in another.
        var closed = false

        /// Largest slice handed to expat at once, so the size limit is checked between
        /// slices and one huge read cannot build a huge tree before it is noticed.
        static let sliceBytes = 32 * 1024

        /// Longest stream header kept for replay: real ones are about 200 bytes.
        static let maxHeaderBytes = 1024

        /// Makes a parser for a new stream.
        public init(limits: Limits = Limits()) {
            self.limits = limits
            createExpat()
        }

        deinit {
            if let expat { XML_ParserFree(expat) }
        }

        /// expat's parser, which exists whenever bytes are being parsed.
        var parser: XML_Parser { expat.unsafelyUnwrapped }

        func createExpat() {
            guard let expat = XML_ParserCreateNS("UTF-8", XML_Char(1)) else {
                fatalError("expat could not allocate a parser")
            }
            self.expat = expat
            installHandlers()
        }

        /// Parses the next bytes of the stream and returns the events they complete.
        ///
        /// An event is returned by the call that supplies its last byte. When the bytes
        /// break a rule, nothing from this call is returned (not even elements that came
        /// before the violation in the same bytes), and this and every later call throws.
        public func feed(_ bytes: UnsafeRawBufferPointer) throws(StreamError) -> [StreamEvent] {
            if let failure { throw failure }
            guard !bytes.isEmpty, !closed else { return [] }
            if expat == nil { wake() }
            checkLeadingBytes(bytes)
            keepHeader(bytes)
            if failure == nil {
                if shouldHold(bytes) {
                    heldBytes.append(contentsOf: bytes)
                    checkUnfinishedSize()
                } else if heldBytes.isEmpty {
                    parse(bytes)
                } else {
                    heldBytes.append(contentsOf: bytes)
                    let held = heldBytes
                    heldBytes = []
                    held.withUnsafeBytes { parse($0) }
                }
            }
            trimHeader()
            if let failure {
                events = []
                openElements = []
                pendingText = []
                heldBytes = []
                throw failure
            }
            let completed = events
            events = []
            return completed
        }

        /// Parses the next bytes of the stream; see `feed(_: UnsafeRawBufferPointer)`.
        public func feed(_ bytes: some Collection<UInt8>) throws(StreamError) -> [StreamEvent] {
            let result = bytes.withContiguousStorageIfAvailable { buffer in
                Result { () throws(StreamError) in try feed(UnsafeRawBufferPointer(buffer)) }
            }
            if let result { return try result.get() }
            let copy = Array(bytes)
            return try copy.withUnsafeBytes { buffer in
                Result { () throws(StreamError) in try feed(buffer) }
            }.get()
        }

        /// Hands bytes to expat in slices, so the size limit is checked between them.
        func parse(_ bytes: UnsafeRawBufferPointer) {
            guard let base = bytes.baseAddress else { return }
            var offset = 0
            while offset < bytes.count, failure == nil, !closed {
                let count = min(bytes.count - offset, Self.sliceBytes)
                let tokenStart = Int(XML_GetCurrentByteIndex(parser))
                expatScannedBytes += parsedBytes - max(tokenStart, 0) + count
                let status = XML_Parse(parser, (base + offset).assumingMemoryBound(to: CChar.self), Int32(count), 0)
                offset += count
                parsedBytes += count
                if status == XML_STATUS_ERROR {
                    // Stopped at the root's end tag (`closed`), or a real error.
                    if !closed { fail(expatError(), detail: expatErrorDetail()) }
                } else {
                    checkUnfinishedSize()
                }
            }
        }

        /// Fails when the bytes since the current element's start, or since the last
        /// event outside one, outgrow the limit: an unfinished token (a long attribute
        /// value, say) fires no handler that could notice.
        private func checkUnfinishedSize() {
            let origin = depth >= 2 ? elementStart : boundary
            if failure == nil, fedBytes - origin > limits.maxElementBytes {
                fail(.stanzaTooBig, detail: "more than \(limits.maxElementBytes) bytes without completing an element")
            }
        }

        /// Starts a new document on the same connection, for a stream restart (RFC 6120
        /// §5.4.3.3 after TLS, §6.4.6 after SASL); the next bytes must open a new root.
        ///
        /// `XML_ParserReset` clears every handler and the user data and turns reparse
        /// deferral back on, so all of it is installed again. A failed parser stays failed.
        public func reset() {
            guard failure == nil else { return }
            if expat == nil {
                createExpat()
            } else {
                guard XML_ParserReset(parser, "UTF-8") == XML_TRUE else {
                    fatalError("XML_ParserReset failed on a parser that is not parsing")
                }
                installHandlers()
            }
            depth = 0
            openElements = []
            pendingText = []
            elementStart = 0
            boundary = 0
            parsedBytes = 0
            heldBytes = []
            tokenScan = nil
            leadingBytes = []
            header = []
            headerEnd = nil
            inCDATA = false
            closed = false
        }

        /// Bytes fed since creation or the last reset, held ones included.
        var fedBytes: Int { parsedBytes + heldBytes.count }

        /// Bytes fed after the end of the last event (or stream-level whitespace).
        ///
        /// Non-zero after an event that must end a read, such as a request to start TLS,
        /// means the peer sent more data it was not allowed to send yet (the plaintext
        /// injection of CVE-2011-0411).
        public var bytesAfterLastEvent: Int {
            fedBytes - boundary
        }

        /// Records the first violation and stops expat; later handler calls see `failure` and do nothing.
        func fail(_ error: StreamError, detail: String) {
            guard failure == nil else { return }
            failure = error
            failureDetail = detail
            // Not resumable (XS-13): the rest of this chunk is never parsed into events.
            _ = XML_StopParser(parser, XML_FALSE)
        }
    }
}
