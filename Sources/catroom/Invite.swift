import ArgumentParser
import CatroomClient
import CatroomCrypto

extension Catroom {
    /// `catroom invite`: makes a room's invite secret and prints the join command (CR-0008).
    struct Invite: ParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Make an invite secret for a room and print the command that joins with it.",
            discussion: """
                Draws a 256-bit secret and prints `catroom join <room> --invite <secret> ...`; nothing is sent \
                to the server. Join with it yourself and send the command to the people you invite over a \
                channel the server does not control. Members that joined with the secret prove it to each \
                other inside the encrypted key exchange, so a server that substitutes someone's keys is \
                caught; a member without it is shown as not invited and is sent nothing.
                """)

        @Argument(help: "The room's name.")
        var room: String

        @Option(help: "The server the room is on: host, host:port or [IPv6]:port.")
        var server = "localhost"

        @Option(help: "The server's port (STARTTLS; default 5222).")
        var port: Int?

        @Option(help: "The XMPP domain, if it differs from --server.")
        var domain: String?

        @Option(help: "The server certificate's SHA-256 fingerprint (as `catroom serve` prints it), so invitees pin it too.")
        var pin: String?

        func validate() throws {
            _ = try ServerAddress(parsing: server).port(option: port)
            try PinRecord.validate(pin)
        }

        func run() throws {
            let address = try ServerAddress(parsing: server)
            print(Invitation.joinCommand(
                room: room, secret: InviteSecret.generate(), server: address.host, port: try address.port(option: port), domain: domain,
                pin: pin.flatMap(CertificatePin.normalized)))
            if pin == nil {
                print("(without --pin, each invitee trusts the server's certificate on first use)")
            }
        }
    }
}
