import Foundation

/// What `catroom bench server` measured: the target, then one entry per scenario.
public struct ServerBenchmarkReport: Sendable, Codable {
    public struct Target: Sendable, Codable {
        public var host: String
        public var port: Int
        public var domain: String
        public var roomDomain: String
        public var tls: String
        public var authentication: String
        public var registration: String
        /// Accounts are `<prefix><scenario letter><n>` when registered (t, l, i), `<prefix><n>` with `--register none`.
        public var accountPrefix: String
        public var sourceAddresses: Int
        public var clientThreads: Int
        public var serverPID: Int32?
        /// The generator's open-file limit after raising it.
        public var openFileLimit: Int
    }

    public var target: Target
    public var scenarios: [Scenario]

    /// One scenario's numbers; the section for its kind is filled in, the others are nil.
    /// The defaults describe one not run yet, so a scenario starts from its name, parameters and limits.
    public struct Scenario: Sendable, Codable {
        public var name: String
        /// The parameters it ran with, in the order they are printed.
        public var parameters: [Parameter]
        /// False when it ran into `--timeout` or a set-up failure; the numbers are then partial.
        public var completed = false
        public var failure: String?
        /// Errors by kind, counted over every connection.
        public var errors: [String: Int] = [:]
        public var throughput: Throughput?
        public var latency: Latency?
        public var idle: Idle?
        /// The server's CPU and memory around the measured phase (with `--server-pid`).
        public var server: ResourceUsage?
        /// The generator's own, over the same phase.
        public var generator = ResourceUsage(cpuSeconds: 0, rssBeforeKiB: 0, rssAfterKiB: 0)
        /// CPU seconds the rest of the machine spent over the same phase: neither server nor
        /// generator (nil without `--server-pid`). Well above zero means a disturbed measurement.
        public var otherProcessesCPUSeconds: Double? = nil
        /// catroom limits the scenario needs, beside catroom's defaults.
        public var catroomLimits: [LimitNeed]
    }

    public struct Parameter: Sendable, Codable {
        public var name: String
        public var value: String
    }

    /// Closed loop: delivered groupchat stanzas per second at saturation.
    public struct Throughput: Sendable, Codable {
        public var occupants: Int
        public var messagesSent: Int
        public var delivered: Int
        public var expected: Int
        /// From the first send to the last delivery.
        public var seconds: Double
        public var stanzasPerSecond: Double
        /// Messages per second each sender managed (catroom's `--stanza-rate` caps it).
        public var sendsPerSecondPerSender: Double
        /// Receive − send under saturation (includes the time queued behind the window).
        public var latency: Percentiles
    }

    /// Open loop: latency at a paced rate.
    public struct Latency: Sendable, Codable {
        public var senders: Int
        public var targetRate: Double
        public var intended: Int
        public var sent: Int
        /// sent / intended: below 1 when the generator could not keep its schedule.
        public var pace: Double
        public var achievedRate: Double
        public var meanSendLagMilliseconds: Double
        public var maxSendLagMilliseconds: Double
        public var delivered: Int
        public var expected: Int
        public var latency: Percentiles
    }

    /// Idle connections: logins per second and memory per connection.
    public struct Idle: Sendable, Codable {
        public var requested: Int
        public var connected: Int
        public var failed: Int
        /// From the first connect to the last completed login.
        public var loginSeconds: Double
        public var loginsPerSecond: Double
        public var serverCPUMillisecondsPerLogin: Double?
        public var generatorCPUMillisecondsPerLogin: Double
        /// (RSS with every connection open, after settling − RSS before) / connections.
        public var serverKiBPerConnection: Double?
        public var generatorKiBPerConnection: Double
        /// RSS once every connection closed again: shows what is not given back.
        public var serverRSSAfterCloseKiB: Int?
    }

    public struct Percentiles: Sendable, Codable {
        public var count: Int
        public var p50Milliseconds: Double
        public var p90Milliseconds: Double
        public var p99Milliseconds: Double
        public var maxMilliseconds: Double

        /// From unsorted nanosecond samples.
        init(nanoseconds samples: [UInt64]) {
            let sorted = samples.sorted()
            func at(_ p: Double) -> Double { Double(percentile(p, ofSorted: sorted) ?? 0) / 1e6 }
            count = sorted.count
            p50Milliseconds = at(0.5)
            p90Milliseconds = at(0.9)
            p99Milliseconds = at(0.99)
            maxMilliseconds = Double(sorted.last ?? 0) / 1e6
        }
    }

    public struct ResourceUsage: Sendable, Codable {
        public var cpuSeconds: Double
        public var rssBeforeKiB: Int
        public var rssAfterKiB: Int
    }

    /// One catroom limit (`catroom serve --<flag>`) and what the scenario asks of it.
    public struct LimitNeed: Sendable, Codable {
        public var flag: String
        public var needed: Double
        public var catroomDefault: Double
        public var exceedsDefault: Bool { needed > catroomDefault }
        /// Stanza rates measured rather than planned: reaching 90 % of the default suggests throttling.
        public var measured: Bool

        public var verdict: String {
            if exceedsDefault { return "raise (default \(Self.number(catroomDefault)))" }
            if measured && needed >= 0.9 * catroomDefault { return "at the default: probably throttled" }
            return "default \(Self.number(catroomDefault)) is enough"
        }

        static func number(_ value: Double) -> String {
            value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value)
        }
    }
}

// MARK: - Output

extension ServerBenchmarkReport {
    public func json() throws -> String {
        try prettyJSON(self)
    }

    /// The report for people: one block per scenario.
    public func text() -> String {
        var lines = [
            "target \(target.host):\(target.port) domain \(target.domain) rooms \(target.roomDomain)",
            "tls \(target.tls), auth \(target.authentication), register \(target.registration) (prefix \(target.accountPrefix)), "
                + "\(target.sourceAddresses) source address\(target.sourceAddresses == 1 ? "" : "es"), "
                + "\(target.clientThreads) generator thread\(target.clientThreads == 1 ? "" : "s"), open files \(target.openFileLimit)",
        ]
        for scenario in scenarios {
            lines.append("")
            lines.append("== \(scenario.name) (" + scenario.parameters.map { "\($0.name) \($0.value)" }.joined(separator: ", ") + ")"
                + (scenario.completed ? "" : " INCOMPLETE: \(scenario.failure ?? "timed out")"))
            if let t = scenario.throughput {
                lines.append(String(format: "delivered %d of %d groupchat stanzas in %.3f s: %.0f stanzas/s", t.delivered, t.expected, t.seconds, t.stanzasPerSecond))
                lines.append(String(format: "sent %d messages, %.0f per second per sender", t.messagesSent, t.sendsPerSecondPerSender))
                lines.append("latency under saturation " + Self.describe(t.latency))
            }
            if let l = scenario.latency {
                lines.append(String(format: "sent %d of %d intended (pace %.3f, %.0f msg/s of %.0f), send lag mean %.3f ms, max %.3f ms",
                                    l.sent, l.intended, l.pace, l.achievedRate, l.targetRate, l.meanSendLagMilliseconds, l.maxSendLagMilliseconds))
                lines.append("delivered \(l.delivered) of \(l.expected)")
                lines.append("latency " + Self.describe(l.latency))
            }
            if let i = scenario.idle {
                lines.append(String(format: "%d of %d connections logged in in %.2f s: %.0f logins/s", i.connected, i.requested, i.loginSeconds, i.loginsPerSecond))
                var cpu = String(format: "CPU per login: generator %.2f ms", i.generatorCPUMillisecondsPerLogin)
                if let server = i.serverCPUMillisecondsPerLogin { cpu += String(format: ", server %.2f ms", server) }
                lines.append(cpu)
                var memory = String(format: "memory per connection: generator %.1f KiB", i.generatorKiBPerConnection)
                if let server = i.serverKiBPerConnection { memory += String(format: ", server %.1f KiB", server) }
                if let after = i.serverRSSAfterCloseKiB { memory += ", server RSS after closing all \(after) KiB" }
                lines.append(memory)
            }
            if let s = scenario.server {
                lines.append(String(format: "server: %.2f CPU s, RSS %d → %d KiB", s.cpuSeconds, s.rssBeforeKiB, s.rssAfterKiB))
            }
            let g = scenario.generator
            lines.append(String(format: "generator: %.2f CPU s, RSS %d → %d KiB", g.cpuSeconds, g.rssBeforeKiB, g.rssAfterKiB))
            if let other = scenario.otherProcessesCPUSeconds {
                lines.append(String(format: "other processes: %.2f CPU s%@", other, other > 0.5 ? " (the machine was not quiet)" : ""))
            }
            if !scenario.errors.isEmpty {
                lines.append("errors: " + scenario.errors.sorted { $0.key < $1.key }.map { "\($0.key) ×\($0.value)" }.joined(separator: "; "))
            }
            if !scenario.catroomLimits.isEmpty {
                lines.append("catroom limits: " + scenario.catroomLimits.map {
                    "--\($0.flag) \(LimitNeed.number($0.needed)) (\($0.verdict))"
                }.joined(separator: "; "))
            }
        }
        return lines.joined(separator: "\n")
    }

    static func describe(_ p: Percentiles) -> String {
        String(format: "p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, max %.3f ms (%d samples)",
               p.p50Milliseconds, p.p90Milliseconds, p.p99Milliseconds, p.maxMilliseconds, p.count)
    }
}
