import Foundation

extension SoakReport {
    /// The soak curve as a self-contained SVG: the server's RSS above, deliveries per second
    /// below, against minutes since the load started.
    public func svg() -> String {
        let width = 720.0, left = 60.0, right = 20.0, plotWidth = width - left - right
        let rssTop = 40.0, rssHeight = 200.0, rateTop = 290.0, rateHeight = 100.0, height = 430.0
        let end = max(samples.last?.seconds ?? 1, 1)
        func x(_ seconds: Double) -> Double { left + seconds / end * plotWidth }
        func f(_ value: Double) -> String { String(format: "%.1f", value) }

        let mib = samples.map { Double($0.rssKiB) / 1024 }
        let rssMax = niceCeiling(mib.max() ?? 1)
        var rates: [(Double, Double)] = []
        for (previous, sample) in zip(samples, samples.dropFirst()) where sample.seconds > previous.seconds {
            rates.append((sample.seconds, Double(sample.deliveries - previous.deliveries) / (sample.seconds - previous.seconds)))
        }
        let rateMax = niceCeiling(rates.map(\.1).max() ?? 1)

        var svg = [
            "<svg xmlns='http://www.w3.org/2000/svg' width='\(Int(width))' height='\(Int(height))' font-family='sans-serif' font-size='11'>",
            "<rect width='100%' height='100%' fill='white'/>",
            "<text x='\(f(left))' y='20' font-size='13'>catroom bench soak: server RSS (MiB) and deliveries per second, \(f(end / 60)) min, "
                + "delivery \(String(format: "%.2f", delivery.percent))%, \(passed ? "passed" : "FAILED")</text>",
        ]
        func axes(top: Double, height: Double, maximum: Double, label: String) {
            for step in 0...4 {
                let value = maximum * Double(step) / 4, y = top + height - height * Double(step) / 4
                svg.append("<line x1='\(f(left))' y1='\(f(y))' x2='\(f(left + plotWidth))' y2='\(f(y))' stroke='#ddd'/>")
                svg.append("<text x='\(f(left - 6))' y='\(f(y + 4))' text-anchor='end'>\(value == value.rounded() ? String(Int(value)) : String(format: "%.1f", value))</text>")
            }
            svg.append("<text x='\(f(left))' y='\(f(top - 6))' fill='#555'>\(label)</text>")
        }
        axes(top: rssTop, height: rssHeight, maximum: rssMax, label: "RSS MiB (every \(f(sampleSeconds)) s)")
        axes(top: rateTop, height: rateHeight, maximum: rateMax, label: "deliveries/s")
        for step in 0...6 {
            let seconds = end * Double(step) / 6
            svg.append("<text x='\(f(x(seconds)))' y='\(f(rateTop + rateHeight + 16))' text-anchor='middle'>\(f(seconds / 60)) min</text>")
        }
        let rssPoints = zip(samples, mib).map { "\(f(x($0.seconds))),\(f(rssTop + rssHeight - $1 / rssMax * rssHeight))" }
        svg.append("<polyline fill='none' stroke='#c0392b' stroke-width='1.5' points='\(rssPoints.joined(separator: " "))'/>")
        let ratePoints = rates.map { "\(f(x($0.0))),\(f(rateTop + rateHeight - $0.1 / rateMax * rateHeight))" }
        svg.append("<polyline fill='none' stroke='#2471a3' stroke-width='1.5' points='\(ratePoints.joined(separator: " "))'/>")
        svg.append("</svg>")
        return svg.joined(separator: "\n") + "\n"
    }

    /// 1, 2 or 5 times a power of ten, at or above `value`: round axis maxima.
    func niceCeiling(_ value: Double) -> Double {
        guard value > 0 else { return 1 }
        let power = pow(10, floor(log10(value)))
        return [1.0, 2, 5, 10].map { $0 * power }.first { $0 >= value } ?? 10 * power
    }
}
