import CatroomClient

/// The full-screen view's conversations, like weechat's buffers: one per room, and one
/// per private chat keyed by the member's account id (its key), not its name. Each
/// keeps its own scrollback; one is shown, and the others count what arrived unseen.
struct TerminalBuffers {
    struct Buffer {
        enum Key: Equatable {
            /// A room, by its canonical address.
            case room(String)
            /// A private chat, by the member's account id.
            case peer(String)
        }

        let key: Key
        var screen: TerminalScreen
        /// The room it belongs to: for a private chat, the room its messages go through.
        var room: String
        /// The member of a private chat, as last shown.
        var member: MemberInfo?
        /// Messages that arrived while another buffer was shown.
        var unread = 0
        /// One of them mentions this member, or is private.
        var highlighted = false
        /// The room safety code (CR-0007), for a room's status line.
        var safetyCode: String?
        /// What is being typed here, and the lines sent from here (Up, Down).
        var editor = LineEditor()

        /// What the buffer list and `/buffer` call it: the room's name, or the member's.
        var name: String {
            switch key {
            case .room(let room): String(room.prefix { $0 != "@" })
            case .peer(let id): member?.nick ?? String(id.prefix(8))
            }
        }
    }

    private(set) var list: [Buffer]
    private(set) var index = 0
    let palette: TerminalPalette

    init(room: String, size: TerminalScreen.Size, palette: TerminalPalette) {
        self.palette = palette
        list = [Buffer(key: .room(room), screen: TerminalScreen(size: size, palette: palette), room: room)]
    }

    /// Borrowed, not copied: a copy would share the scrollback and make its next change copy it whole.
    var current: Buffer {
        _read { yield list[index] }
        _modify { yield &list[index] }
    }

    /// The buffer for `key`, opened (after the others, not shown) if there is none.
    mutating func position(of key: Buffer.Key, room: String, member: MemberInfo? = nil) -> Int {
        if let found = list.firstIndex(where: { $0.key == key }) {
            if let member { list[found].member = member }
            return found
        }
        var screen = TerminalScreen(size: list[index].screen.size, palette: palette)
        screen.newlineSymbol = list[index].screen.newlineSymbol
        list.append(Buffer(key: key, screen: screen, room: room, member: member))
        return list.count - 1
    }

    subscript(position: Int) -> Buffer {
        _read { yield list[position] }
        _modify { yield &list[position] }
    }

    /// Shows the buffer at `position`: what arrived there is now seen.
    mutating func show(_ position: Int) {
        guard list.indices.contains(position) else { return }
        index = position
        list[index].unread = 0
        list[index].highlighted = false
    }

    /// The next (or previous) buffer, round the list.
    mutating func step(forward: Bool) {
        show((index + (forward ? 1 : list.count - 1)) % list.count)
    }

    /// The buffer `/buffer` names: its number from 1, or its name.
    func find(_ typed: String) -> Int? {
        if let number = Int(typed), list.indices.contains(number - 1) { return number - 1 }
        let name = typed.lowercased()
        return list.firstIndex { $0.name.lowercased() == name } ?? list.firstIndex { $0.room == name }
    }

    /// Closes the buffer at `position` (never the last one) and shows `then`'s, or a neighbour.
    mutating func close(_ position: Int, then key: Buffer.Key? = nil) {
        guard list.count > 1, list.indices.contains(position) else { return }
        list.remove(at: position)
        let next = key.flatMap { key in list.firstIndex { $0.key == key } } ?? min(position, list.count - 1)
        index = min(index, list.count - 1)
        show(next)
    }

    mutating func resize(_ size: TerminalScreen.Size) {
        for position in list.indices { list[position].screen.resize(size) }
    }
}
