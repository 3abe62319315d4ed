import CatroomXML
import Foundation

/// `catroom bench parser`: what an idle stream's parser costs in memory, what
/// hibernating it saves (`XML.StreamParser.hibernate()`), and what waking it costs
/// per stanza, each beside the parser kept awake in the same run.
public struct ParserBenchmark {
    public struct Report: Sendable, Codable {
        /// Size of the benchmark stanza: a groupchat carrying a 600-byte payload.
        public let stanzaBytes: Int
        /// Median time to parse that stanza with the parser awake (the baseline)...
        public let awakeMicroseconds: Double
        /// ...and with the parser hibernated before each stanza (wake, parse, hibernate).
        public let wakingMicroseconds: Double
        /// Streams held open for the memory measure.
        public let streams: Int
        /// Resident memory per stream after its header and one stanza, parser kept (the baseline)...
        public let awakeKiBPerStream: Double
        /// ...and parser hibernated.
        public let hibernatingKiBPerStream: Double
    }

    let scale: Int

    public init(quick: Bool = false) { scale = quick ? 10 : 1 }

    static let header = Array(
        ("<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' "
            + "to='localhost' version='1.0' xml:lang='en'>").utf8)
    static let stanza = Array(
        ("<message to='lobby@rooms.localhost' type='groupchat' id='m1'><encrypted xmlns='urn:catroom:e2e:0' "
            + "id='m1' commitment='\(String(repeating: "c", count: 43))'><payload>\(String(repeating: "A", count: 600))"
            + "</payload></encrypted></message>").utf8)

    public func run() throws -> Report {
        let count = max(20_000 / scale, 100)
        let awake = try time(count: count, hibernating: false)
        let waking = try time(count: count, hibernating: true)
        let streams = max(10_000 / scale, 100)
        // Hibernating first: its parsers' freed memory is then reused by the awake ones
        // instead of being counted for them.
        let hibernating = try residentKiB(streams: streams, hibernating: true)
        let kept = try withExtendedLifetime(hibernating.parsers) { try residentKiB(streams: streams, hibernating: false) }
        return Report(
            stanzaBytes: Self.stanza.count, awakeMicroseconds: awake, wakingMicroseconds: waking, streams: streams,
            awakeKiBPerStream: kept.perStream, hibernatingKiBPerStream: hibernating.perStream)
    }

    private func time(count: Int, hibernating: Bool) throws -> Double {
        let parser = try Self.openStream()
        return try Measurement.run(count: count) {
            if hibernating { parser.hibernate() }
            _ = try Self.stanza.withUnsafeBytes { try parser.feed($0) }
        }.median / 1000
    }

    /// RSS growth while `streams` parsers each read a header and a stanza; the parsers
    /// are returned so they stay alive until the caller is done measuring.
    private func residentKiB(streams: Int, hibernating: Bool) throws -> (perStream: Double, parsers: [XML.StreamParser]) {
        let before = ProcessSample.current().rssKiB
        var parsers: [XML.StreamParser] = []
        parsers.reserveCapacity(streams)
        for _ in 0..<streams {
            let parser = try Self.openStream()
            _ = try Self.stanza.withUnsafeBytes { try parser.feed($0) }
            if hibernating { parser.hibernate() }
            parsers.append(parser)
        }
        return (Double(ProcessSample.current().rssKiB - before) / Double(streams), parsers)
    }

    private static func openStream() throws -> XML.StreamParser {
        let parser = XML.StreamParser()
        _ = try header.withUnsafeBytes { try parser.feed($0) }
        return parser
    }

    public static func table(_ report: Report) -> String {
        [
            "                                      parser awake   hibernating",
            String(format: "parse a %d-byte groupchat, µs    %12.2f  %12.2f (wake and parse)",
                   report.stanzaBytes, report.awakeMicroseconds, report.wakingMicroseconds),
            String(format: "resident KiB per stream (%d)    %12.1f  %12.1f",
                   report.streams, report.awakeKiBPerStream, report.hibernatingKiBPerStream),
        ].joined(separator: "\n")
    }

    public static func json(_ report: Report) throws -> String {
        try prettyJSON(report)
    }
}
