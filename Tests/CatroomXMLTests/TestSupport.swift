import CatroomXML
import Testing

typealias Event = XML.StreamEvent

/// A stream header as a client sends it; tests put stanzas after it.
let streamHeader = "<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
    + "xmlns:stream='http://etherx.jabber.org/streams' to='example.com' version='1.0'>"
let streamsNamespace = "http://etherx.jabber.org/streams"
let clientNamespace = "jabber:client"

func utf8(_ string: String) -> [UInt8] { Array(string.utf8) }

/// What feeding some chunks produced: the events delivered and the error that ended it, if any.
struct Outcome: Equatable, CustomStringConvertible {
    var events: [Event] = []
    var error: XML.StreamError?

    var description: String { "events \(events), error \(error.map { "\($0)" } ?? "none")" }
}

/// Feeds each document's chunks in order, resetting the parser between documents and,
/// when `hibernating`, asking it to hibernate after every chunk.
func run(_ documents: [[[UInt8]]], limits: XML.StreamParser.Limits = .init(), hibernating: Bool = false) -> Outcome {
    let parser = XML.StreamParser(limits: limits)
    var outcome = Outcome()
    for (index, chunks) in documents.enumerated() {
        if index > 0 { parser.reset() }
        for chunk in chunks {
            do {
                outcome.events += try parser.feed(chunk)
            } catch {
                outcome.error = error
                return outcome
            }
            if hibernating { parser.hibernate() }
        }
    }
    return outcome
}

/// The ways a test feeds one document: whole, one byte at a time, and split in two at every offset.
func chunkings(_ bytes: [UInt8], everySplit: Bool = true) -> [[[UInt8]]] {
    var ways = [[bytes], bytes.map { [$0] }]
    if everySplit {
        for offset in 1..<max(bytes.count, 1) {
            ways.append([Array(bytes[..<offset]), Array(bytes[offset...])])
        }
    }
    return ways
}

/// Parses documents (with a reset between them) whole, byte by byte and split at every
/// offset of each, each way with and without hibernating after every chunk, expects the
/// same outcome every time, and returns it.
@discardableResult
func parseAllWays(
    _ documents: [[UInt8]],
    limits: XML.StreamParser.Limits = .init(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> Outcome {
    let whole = run(documents.map { [$0] }, limits: limits)
    for (index, document) in documents.enumerated() {
        for (way, chunks) in chunkings(document, everySplit: document.count <= 4096).enumerated() {
            var split = documents.map { [$0] }
            split[index] = chunks
            for hibernating in way == 0 ? [true] : [false, true] {
                let outcome = run(split, limits: limits, hibernating: hibernating)
                if outcome != whole {
                    Issue.record(
                        "document \(index), chunking \(way) (\(chunks.map(\.count))), hibernating \(hibernating): \(outcome), whole: \(whole)",
                        sourceLocation: sourceLocation
                    )
                    return whole
                }
            }
        }
    }
    return whole
}

/// `parseAllWays` for valid input: expects no error and returns the events.
func events(
    _ documents: String...,
    limits: XML.StreamParser.Limits = .init(),
    sourceLocation: SourceLocation = #_sourceLocation
) -> [Event] {
    let outcome = parseAllWays(documents.map(utf8), limits: limits, sourceLocation: sourceLocation)
    #expect(outcome.error == nil, "unexpected \(String(describing: outcome.error))", sourceLocation: sourceLocation)
    return outcome.events
}

/// Expects `input` to fail with `expected` however it is chunked, delivering no event from
/// the chunk that holds the violation, and the failure to stick.
func expectFailure(
    _ input: [UInt8],
    _ expected: XML.StreamError,
    limits: XML.StreamParser.Limits = .init(),
    everySplit: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    for (way, chunks) in chunkings(input, everySplit: everySplit && input.count <= 4096).enumerated() {
        for hibernating in [false, true] {
            let outcome = run([chunks], limits: limits, hibernating: hibernating)
            guard outcome.error == expected else {
                Issue.record(
                    "chunking \(way) (\(chunks.count) chunks), hibernating \(hibernating) gave \(outcome), expected \(expected)",
                    sourceLocation: sourceLocation
                )
                return
            }
        }
    }
    let parser = XML.StreamParser(limits: limits)
    #expect(throws: expected, sourceLocation: sourceLocation) { try parser.feed(input) }
    #expect(throws: expected, "the failure sticks", sourceLocation: sourceLocation) { try parser.feed(utf8(" ")) }
    #expect(parser.failure == expected, sourceLocation: sourceLocation)
}

func expectFailure(
    _ input: String,
    _ expected: XML.StreamError,
    limits: XML.StreamParser.Limits = .init(),
    everySplit: Bool = true,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    expectFailure(utf8(input), expected, limits: limits, everySplit: everySplit, sourceLocation: sourceLocation)
}

/// The element of the only `.element` event in `events`.
func onlyElement(_ events: [Event], sourceLocation: SourceLocation = #_sourceLocation) -> XML.Element? {
    let elements = events.compactMap { event -> XML.Element? in
        if case .element(let element) = event { element } else { nil }
    }
    #expect(elements.count == 1, "expected one element in \(events)", sourceLocation: sourceLocation)
    return elements.first
}

/// Parses one stanza after the stream header, checking every chunking, and returns it.
func parseStanza(_ stanza: String, sourceLocation: SourceLocation = #_sourceLocation) -> XML.Element? {
    onlyElement(events(streamHeader + stanza, sourceLocation: sourceLocation), sourceLocation: sourceLocation)
}
