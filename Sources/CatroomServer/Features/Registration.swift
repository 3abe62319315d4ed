import CatroomCrypto
import CatroomProtocol
import CatroomXML
import NIOCore

/// In-band registration before authentication (xep/CR-0003): ephemeral accounts
/// with key possession, and plain XEP-0077 accounts only when the operator allows.
extension ClientConnection {
    /// How long a challenge stays good.
    static let challengeLifetime = TimeAmount.seconds(60)
    static let formType = Namespace.keyRegistration
    static let passwordBytes = 16...1024

    func register(_ element: XML.Element) {
        guard let stanza = try? Stanza(element), let query = stanza.payload else { return streamError(StreamError(.notAuthorized)) }
        switch stanza.type {
        case "get":
            send(stanza.result(registrationForm()))
        case "set":
            if query.firstChild(name: "remove", namespace: Namespace.register) != nil {
                return reply(to: stanza, StanzaError(.notAllowed, text: "accounts end when their connection does"))
            }
            guard hub.allowRegistration(from: handle.address) else {
                return reply(to: stanza, StanzaError(.resourceConstraint, text: "too many registrations, try later"))
            }
            let result: Result<Void, StanzaError>
            if let form = query.firstChild(name: "x", namespace: Namespace.dataForms).flatMap(DataForm.init) {
                result = registerWithKey(form)
            } else {
                result = registerPlain(query)
            }
            switch result {
            case .success:
                send(stanza.result())
            case .failure(let error):
                reply(to: stanza, error)
                if error.condition != .resourceConstraint { countFailure() }
            }
        default:
            reply(to: stanza, StanzaError(.badRequest))
        }
    }

    /// The form of CR-0003 §5.1: a fresh challenge bound to this stream, and the fields to return.
    private func registrationForm() -> XML.Element {
        let nonce = randomBytes(count: KeyPossession.challengeCount)
        challenge = (nonce, .now())
        var query = XML.Element("query", namespace: Namespace.register, attributes: [])
        query.append(XML.Element("instructions", namespace: Namespace.register, attributes: [], children: [
            .text("Sign the challenge with your identity key (urn:catroom:register:0)."),
        ]))
        if configuration.allowPlainRegistration {
            query.append(XML.Element("username", namespace: Namespace.register, attributes: []))
            query.append(XML.Element("password", namespace: Namespace.register, attributes: []))
        }
        query.append(DataForm(type: "form", fields: [
            .init("FORM_TYPE", type: "hidden", values: [Self.formType]),
            .init("challenge", type: "hidden", values: [nonce.base64]),
            .init("identity-key", type: "text-single", label: "Ed25519 identity key (base64)", required: true),
            .init("signature", type: "text-single", label: "Signature of the registration transcript (base64)", required: true),
            .init("password", type: "text-private", label: "Password for SASL", required: true),
        ]).element)
        return query
    }

    /// CR-0003 §5.2: the challenge must be this stream's, unused and fresh; the key valid;
    /// the signature over this domain, stream, challenge and key.
    private func registerWithKey(_ form: DataForm) -> Result<Void, StanzaError> {
        // One submission per challenge, whatever its outcome: a replay finds none.
        let issued = challenge
        challenge = nil
        guard form.type == "submit", form.value("FORM_TYPE") == Self.formType else {
            return .failure(StanzaError(.badRequest, text: "unknown form"))
        }
        guard let issued, NIODeadline.now() - issued.issued < Self.challengeLifetime,
              let nonce = form.value("challenge").flatMap({ [UInt8](base64: $0) }),
              constantTimeEqual(nonce, issued.nonce)
        else { return .failure(StanzaError(.notAuthorized, text: "no valid challenge: ask for the form again")) }
        guard let keyBytes = form.value("identity-key").flatMap({ [UInt8](base64: $0) }),
              let identityKey = try? IdentityKey(bytes: keyBytes),
              let signature = form.value("signature").flatMap({ [UInt8](base64: $0) }), signature.count == IdentityKey.signatureCount,
              let password = form.value("password").map({ Array($0.utf8) }), Self.passwordBytes.contains(password.count)
        else { return .failure(StanzaError(.badRequest, text: "malformed key, signature or password")) }
        guard KeyPossession.isValid(signature, identityKey: identityKey, domain: configuration.domain, streamID: streamID, nonce: issued.nonce)
        else { return .failure(StanzaError(.notAuthorized, text: "the signature does not prove the key")) }
        let credentials = SCRAM.Credentials(password: password, salt: randomBytes(count: 16))
        do {
            for replaced in try hub.registerEphemeral(identityKey: identityKey, credentials: credentials, connection: handle) {
                replaced.close(with: .replaced)
            }
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// XEP-0077 §3.1 username and password, only when the operator switched it on. Names
    /// shaped like key-derived ids are reserved, so nobody can squat another's id.
    private func registerPlain(_ query: XML.Element) -> Result<Void, StanzaError> {
        guard configuration.allowPlainRegistration else {
            return .failure(StanzaError(.notAllowed, text: "this server registers identity keys only (urn:catroom:register:0)"))
        }
        guard let username = query.firstChild(name: "username", namespace: Namespace.register)?.text,
              let password = query.firstChild(name: "password", namespace: Namespace.register)?.text,
              let localpart = JID.normalizedLocalpart(username), Self.passwordBytes.contains(password.utf8.count)
        else { return .failure(StanzaError(.notAcceptable, text: "username and password required")) }
        guard !Self.looksLikeAccountID(localpart) else {
            return .failure(StanzaError(.notAcceptable, text: "names of that shape are reserved for key-derived ids"))
        }
        do {
            try hub.registerPlain(localpart: localpart, credentials: SCRAM.Credentials(
                password: Array(password.utf8), salt: randomBytes(count: 16)))
            return .success(())
        } catch {
            return .failure(error)
        }
    }

    /// 32 characters of the lowercase base32 alphabet (CR-0001 §5.1).
    static func looksLikeAccountID(_ localpart: String) -> Bool {
        localpart.utf8.count == 32 && localpart.allSatisfy { "abcdefghijklmnopqrstuvwxyz234567".contains($0) }
    }
}
