import CatroomCrypto
import Foundation

/// The colours of the terminal UI: the theme's basic colours for the interface, and one
/// colour per member derived from its identity.
///
/// Nick colours follow XEP-0392 (Consistent Color Generation) §5, with SHA-256 in place
/// of SHA-1: the first two bytes of the hash of the member's account id, little-endian,
/// give a hue angle; HSLuv at saturation 100 and lightness 50 gives the colour, which
/// reads on dark and light backgrounds alike; the nearest entry of the 6×6×6 cube of the
/// 256-colour palette (by distance in CIELUV) is used unless COLORTERM announces 24-bit
/// colour. With NO_COLOR set, nothing is coloured (bold, italic and reverse remain).
struct TerminalPalette: Sendable {
    enum Depth: Sendable { case none, basic, indexed, truecolor }

    let depth: Depth
    var colors: Bool { depth != .none }

    init(depth: Depth) { self.depth = depth }

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        let term = environment["TERM"] ?? ""
        let colorTerm = (environment["COLORTERM"] ?? "").lowercased()
        if environment["NO_COLOR"].map({ !$0.isEmpty }) ?? false || term == "dumb" {
            depth = .none
        } else if colorTerm == "truecolor" || colorTerm == "24bit" {
            depth = .truecolor
        } else if term == "linux" || term == "vt100" || term == "vt220" || term == "ansi" {
            depth = .basic
        } else {
            depth = .indexed
        }
    }

    // MARK: - Interface colours (the theme's own, so they suit light and dark themes)

    static let red: TerminalStyle.Color = .basic(1)
    static let green: TerminalStyle.Color = .basic(2)
    static let yellow: TerminalStyle.Color = .basic(3)
    static let magenta: TerminalStyle.Color = .basic(5)
    static let cyan: TerminalStyle.Color = .basic(6)

    // MARK: - Nick colours

    /// The colour of a member, from its account id (or, lacking one, its name).
    func color(for identity: String) -> TerminalStyle.Color? {
        let digest = SHA256.hash(Array(identity.utf8))
        let angle = Double(UInt16(digest[0]) | UInt16(digest[1]) << 8) / 65536 * 360
        switch depth {
        case .none: return nil
        case .basic: return Self.nearestBasic(hue: angle)
        case .indexed:
            return .indexed(HSLuv.nearestCubeIndex(HSLuv.rgb(hue: angle, saturation: 100, lightness: 50)))
        case .truecolor:
            let (r, g, b) = HSLuv.rgb(hue: angle, saturation: 100, lightness: 50)
            return .rgb(Self.byte(r), Self.byte(g), Self.byte(b))
        }
    }

    /// The nearest of red, yellow, green, cyan, blue, magenta by hue.
    private static func nearestBasic(hue: Double) -> TerminalStyle.Color {
        let hues: [(Double, UInt8)] = [(12, 1), (86, 3), (128, 2), (192, 6), (265, 4), (308, 5)]
        func distance(_ a: Double) -> Double { min(abs(a - hue), 360 - abs(a - hue)) }
        return .basic(hues.min { distance($0.0) < distance($1.0) }?.1 ?? 1)
    }

    static func byte(_ component: Double) -> UInt8 { UInt8((min(max(component, 0), 1) * 255).rounded()) }
}

/// HSLuv (hsluv.org, reference implementation 4.0): a human-friendly HSL over CIELUV, so
/// every hue at one lightness looks equally light. Components are 0...1.
enum HSLuv {
    // sRGB D65 matrices and CIELUV constants, as in the reference implementation.
    private static let m: [[Double]] = [
        [3.240969941904521, -1.537383177570093, -0.498610760293],
        [-0.96924363628087, 1.87596750150772, 0.041555057407175],
        [0.055630079696993, -0.20397695888897, 1.056971514242878],
    ]
    private static let mInverse: [[Double]] = [
        [0.41239079926595, 0.35758433938387, 0.18048078840183],
        [0.21263900587151, 0.71516867876775, 0.072192315360733],
        [0.019330818715591, 0.11919477979462, 0.95053215224966],
    ]
    private static let refU = 0.19783000664283
    private static let refV = 0.46831999493879
    private static let kappa = 903.2962962
    private static let epsilon = 0.0088564516

    static func rgb(hue: Double, saturation: Double, lightness: Double) -> (Double, Double, Double) {
        let chroma = lightness > 99.9999999 || lightness < 0.00000001 ? 0 : maxChroma(lightness: lightness, hue: hue) / 100 * saturation
        let radians = hue / 180 * .pi
        let (x, y, z) = luvToXYZ(l: lightness, u: cos(radians) * chroma, v: sin(radians) * chroma)
        func channel(_ row: [Double]) -> Double {
            let linear = row[0] * x + row[1] * y + row[2] * z
            return linear <= 0.0031308 ? 12.92 * linear : 1.055 * pow(linear, 1 / 2.4) - 0.055
        }
        return (channel(m[0]), channel(m[1]), channel(m[2]))
    }

    /// The largest chroma at this lightness and hue that stays inside sRGB.
    private static func maxChroma(lightness: Double, hue: Double) -> Double {
        let radians = hue / 360 * 2 * .pi
        var shortest = Double.greatestFiniteMagnitude
        for (slope, intercept) in bounds(lightness) {
            let length = intercept / (sin(radians) - slope * cos(radians))
            if length >= 0 { shortest = min(shortest, length) }
        }
        return shortest
    }

    private static func bounds(_ l: Double) -> [(Double, Double)] {
        let sub1 = pow(l + 16, 3) / 1_560_896
        let sub2 = sub1 > epsilon ? sub1 : l / kappa
        var lines: [(Double, Double)] = []
        for row in m {
            let (m1, m2, m3) = (row[0], row[1], row[2])
            for t in [0.0, 1.0] {
                let top1 = (284_517 * m1 - 94839 * m3) * sub2
                let top2 = (838_422 * m3 + 769_860 * m2 + 731_718 * m1) * l * sub2 - 769_860 * t * l
                let bottom = (632_260 * m3 - 126_452 * m2) * sub2 + 126_452 * t
                lines.append((top1 / bottom, top2 / bottom))
            }
        }
        return lines
    }

    private static func luvToXYZ(l: Double, u: Double, v: Double) -> (Double, Double, Double) {
        guard l > 0 else { return (0, 0, 0) }
        let varU = u / (13 * l) + refU
        let varV = v / (13 * l) + refV
        let y = l <= 8 ? l / kappa : pow((l + 16) / 116, 3)
        let x = 0 - (9 * y * varU) / ((varU - 4) * varV - varU * varV)
        let z = (9 * y - 15 * varV * y - varV * x) / (3 * varV)
        return (x, y, z)
    }

    private static func luv(_ r: Double, _ g: Double, _ b: Double) -> (Double, Double, Double) {
        func linear(_ c: Double) -> Double { c > 0.04045 ? pow((c + 0.055) / 1.055, 2.4) : c / 12.92 }
        let (lr, lg, lb) = (linear(r), linear(g), linear(b))
        let x = mInverse[0][0] * lr + mInverse[0][1] * lg + mInverse[0][2] * lb
        let y = mInverse[1][0] * lr + mInverse[1][1] * lg + mInverse[1][2] * lb
        let z = mInverse[2][0] * lr + mInverse[2][1] * lg + mInverse[2][2] * lb
        let l = y <= epsilon ? y * kappa : 116 * pow(y, 1.0 / 3) - 16
        guard l > 0 else { return (0, 0, 0) }
        let divider = x + 15 * y + 3 * z
        return (l, 13 * l * (4 * x / divider - refU), 13 * l * (9 * y / divider - refV))
    }

    /// The 216 colours of the xterm cube (indices 16 to 231) in CIELUV.
    private static let cube: [(index: UInt8, l: Double, u: Double, v: Double)] = {
        let levels: [Double] = [0, 95, 135, 175, 215, 255]
        var entries: [(UInt8, Double, Double, Double)] = []
        for r in 0..<6 {
            for g in 0..<6 {
                for b in 0..<6 {
                    let (l, u, v) = luv(levels[r] / 255, levels[g] / 255, levels[b] / 255)
                    entries.append((UInt8(16 + 36 * r + 6 * g + b), l, u, v))
                }
            }
        }
        return entries
    }()

    static func nearestCubeIndex(_ rgb: (Double, Double, Double)) -> UInt8 {
        let (l, u, v) = luv(min(max(rgb.0, 0), 1), min(max(rgb.1, 0), 1), min(max(rgb.2, 0), 1))
        return cube.min { a, b in
            let da = (a.l - l) * (a.l - l) + (a.u - u) * (a.u - u) + (a.v - v) * (a.v - v)
            let db = (b.l - l) * (b.l - l) + (b.u - u) * (b.u - u) + (b.v - v) * (b.v - v)
            return da < db
        }?.index ?? 16
    }
}
