import Foundation
import Yams

/// The configuration file (docs/catroom.example.yaml): YAML, one mapping whose keys are
/// `ServerConfiguration.keys`, dotted names as nested mappings (`limits:` then
/// `max_occupants: 200`). A key the server does not know is an error, so a typo never
/// leaves a default in place unnoticed.
extension ServerConfiguration {
    /// Sets every key the file gives; the rest keep their values.
    public mutating func apply(file path: String) throws(ConfigurationError) {
        let text: String
        do {
            text = try String(contentsOfFile: path, encoding: .utf8)
        } catch {
            throw ConfigurationError(file: path, "cannot be read as UTF-8 text (\(error.localizedDescription))")
        }
        try apply(yaml: text, file: path)
    }

    /// Sets every key `yaml` gives, or throws and changes nothing; `file` names it in errors.
    public mutating func apply(yaml: String, file: String = "configuration") throws(ConfigurationError) {
        let root: Node?
        do {
            // The basic resolver leaves every scalar a string; each key reads its own type.
            root = try Yams.compose(yaml: yaml, .basic)
        } catch YamlError.duplicatedKeysInMapping(let duplicates, let context) {
            // Where the mapping starts: Yams does not say which line repeats the key.
            throw ConfigurationError(file: file, line: context.mark.line, key: duplicates.joined(separator: ", "), "is given twice")
        } catch let error as YamlError {
            throw ConfigurationError(file: file, line: error.line, "is not valid YAML: \(error.problem)")
        } catch {
            throw ConfigurationError(file: file, "is not valid YAML: \(error)")
        }
        guard let root else { return }  // empty: every default
        var read = self
        try read.apply(root, prefix: "", file: file)
        self = read
    }

    private mutating func apply(_ node: Node, prefix: String, file: String) throws(ConfigurationError) {
        guard let mapping = node.mapping else {
            throw ConfigurationError(file: file, line: node.mark?.line, key: prefix.isEmpty ? nil : String(prefix.dropLast()), "must be a mapping of keys to values")
        }
        for (keyNode, value) in mapping {
            let line = keyNode.mark?.line
            let name = prefix + (keyNode.scalar?.string ?? "")
            if Self.keys.contains(where: { $0.name.hasPrefix(name + ".") }) {
                try apply(value, prefix: name + ".", file: file)
                continue
            }
            guard let key = Self.keys.first(where: { $0.name == name }) else {
                throw ConfigurationError(file: file, line: line, key: name, "is not a setting (docs/catroom.example.yaml lists them all)")
            }
            guard let scalar = value.scalar else { throw ConfigurationError(file: file, line: line, key: name, "must be a single value") }
            if let problem = key.write(&self, scalar.string) ?? key.problem(self) {
                throw ConfigurationError(file: file, line: line, key: name, problem)
            }
        }
    }

    /// Every setting as a configuration file, unset ones left out: what `--check-config` prints.
    public var yaml: String {
        var top: [(Node, Node)] = []
        var sections: [(name: String, pairs: [(Node, Node)])] = []
        for key in Self.keys {
            guard let text = key.read(self) else { continue }
            let parts = key.name.split(separator: ".", maxSplits: 1).map(String.init)
            guard parts.count == 2 else {
                top.append((Node(key.name), Node(text)))
                continue
            }
            if sections.last?.name != parts[0] { sections.append((parts[0], [])) }
            sections[sections.count - 1].pairs.append((Node(parts[1]), Node(text)))
        }
        let root = Node(top + sections.map { (Node($0.name), Node($0.pairs)) })
        return (try? Yams.serialize(node: root)) ?? ""
    }
}

/// A configuration refused, where and why: `catroom.yaml:12: limits.max_occupants: must be 1 to 100000`.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var file: String?
    public var line: Int?
    public var key: String?
    public var problem: String

    public init(file: String? = nil, line: Int? = nil, key: String? = nil, _ problem: String) {
        self.file = file
        self.line = line
        self.key = key
        self.problem = problem
    }

    public var description: String {
        let place = [file, line.map(String.init)].compactMap { $0 }.joined(separator: ":")
        return ([place.isEmpty ? nil : place, key].compactMap { $0 } + [problem]).joined(separator: ": ")
    }
}

extension YamlError {
    /// Where libyaml stopped, when it says.
    var line: Int? {
        switch self {
        case .scanner(_, _, let mark, _), .parser(_, _, let mark, _), .composer(_, _, let mark, _): mark.line
        default: nil
        }
    }

    var problem: String {
        switch self {
        case .scanner(_, let problem, _, _), .parser(_, let problem, _, _), .composer(_, let problem, _, _): problem
        case .reader(let problem, _, _, _): problem
        default: "\(self)"
        }
    }
}
