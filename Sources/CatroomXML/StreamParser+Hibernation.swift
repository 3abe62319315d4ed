import CExpat

// An idle stream's expat parser holds about 10 KiB (its buffers, pools and tables)
// to keep a state that is fully described by the stream header: between top-level
// elements, with nothing buffered and outside a CDATA section, expat is just past
// the root's start tag with its namespace declarations in scope. Hibernating frees
// the parser; the next `feed` makes a new one and replays the header's bytes into
// it, discarding the stream-opened event they repeat. Byte positions in later error
// details then count from the replayed header. `HibernationDifferentialTests` holds
// the claim: random streams give the same outcome hibernating after every chunk.

extension XML.StreamParser {
    /// Frees expat's state if the stream is between top-level elements with no byte
    /// unparsed; the next `feed` rebuilds it from the stream header. Returns whether it did.
    ///
    /// Refused before the root opens, inside an element or CDATA section, after a
    /// failure, after the stream closed, while any byte is held or buffered, and when
    /// the header was longer than `maxHeaderBytes`.
    @discardableResult
    public func hibernate() -> Bool {
        guard let expat, failure == nil, depth == 1, heldBytes.isEmpty, fedBytes == boundary, !inCDATA,
            let header, header.count == headerEnd
        else { return false }
        XML_ParserFree(expat)
        self.expat = nil
        events = []
        openElements = []
        pendingText = []
        namespaceCache = []
        tokenScan = nil
        return true
    }

    /// Whether expat's state is freed until the next `feed`.
    public var isHibernating: Bool { expat == nil }

    /// Makes a new expat parser and brings it to where the hibernated one was.
    func wake() {
        let replay = header ?? []
        createExpat()
        depth = 0
        boundary = 0
        parsedBytes = 0
        elementStart = 0
        headerEnd = nil
        replay.withUnsafeBytes { parse($0) }
        // The stream-opened event was delivered when these bytes first arrived.
        events = []
        assert(failure != nil || (depth == 1 && headerEnd == replay.count && boundary == replay.count))
    }

    /// Keeps the bytes of the document until the root's start tag has been read, up to one
    /// more than `maxHeaderBytes` (so that `trimHeader` can tell when it is too long).
    func keepHeader(_ bytes: UnsafeRawBufferPointer) {
        guard headerEnd == nil, let kept = header?.count, kept <= Self.maxHeaderBytes else { return }
        header?.append(contentsOf: bytes.prefix(Self.maxHeaderBytes + 1 - kept))
    }

    /// Cuts the kept bytes to the header once the root has opened, or forgets them when too long.
    func trimHeader() {
        guard let kept = header?.count else { return }
        if let headerEnd {
            if headerEnd > Self.maxHeaderBytes {
                header = nil
            } else if kept > headerEnd {
                header = header.map { Array($0.prefix(headerEnd)) }
            }
        } else if kept > Self.maxHeaderBytes {
            header = nil
        }
    }
}
