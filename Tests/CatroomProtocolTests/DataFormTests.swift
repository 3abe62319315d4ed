import CatroomProtocol
import CatroomXML
import Testing

/// The XEP-0004 subset that registration uses.
struct DataFormTests {
    let form = DataForm(type: "form", fields: [
        DataForm.Field("FORM_TYPE", type: "hidden", values: ["jabber:iq:register"]),
        DataForm.Field("username", type: "text-single", label: "Account id", required: true),
        DataForm.Field("challenge", type: "hidden", values: ["bm9uY2U="]),
        DataForm.Field("tags", type: "list-multi", values: ["a", "b"]),
    ])

    @Test func roundTripsThroughXML() throws {
        #expect(DataForm(form.element) == form)
        // And through bytes and the parser.
        let parsed = try parse(form.element.serializedString())
        #expect(DataForm(parsed) == form)
    }

    @Test func serialisesAsXEP0004() {
        let form = DataForm(type: "submit", fields: [
            DataForm.Field("username", type: "text-single", label: "Name", required: true, values: ["alice"]),
            DataForm.Field("x", values: []),
        ])
        #expect(form.element.serializedString() ==
            "<x xmlns='jabber:x:data' type='submit'>"
            + "<field var='username' type='text-single' label='Name'><required/><value>alice</value></field>"
            + "<field var='x'/>"
            + "</x>")
    }

    @Test func readsAFormAsAClientSendsIt() throws {
        let element = try parse("""
            <x xmlns='jabber:x:data' type='submit'>\
            <field var='FORM_TYPE' type='hidden'><value>jabber:iq:register</value></field>\
            <field var='username'><value>alice</value></field>\
            <field var='password' type='text-private' label='Password'><required/><value>s3cret &amp; more</value></field>\
            </x>
            """)
        let form = try #require(DataForm(element))
        #expect(form.type == "submit")
        #expect(form.fields.map(\.name) == ["FORM_TYPE", "username", "password"])
        #expect(form.fields[0].type == "hidden")
        #expect(form.fields[1].type == nil)
        #expect(form.fields[1].label == nil)
        #expect(!form.fields[1].required)
        #expect(form.fields[2].required)
        #expect(form.fields[2].label == "Password")
        #expect(form.value("password") == "s3cret & more")
    }

    @Test func skipsFieldsWithoutAVar() throws {
        let element = try parse("<x xmlns='jabber:x:data' type='form'><field type='fixed'><value>Welcome</value></field><field var='a'/></x>")
        #expect(DataForm(element)?.fields.map(\.name) == ["a"])
    }

    @Test func ignoresChildrenInOtherNamespaces() throws {
        let element = try parse(
            "<x xmlns='jabber:x:data' type='form'><field xmlns='urn:other' var='b'/><field var='a'><value xmlns='urn:other'>no</value></field></x>")
        let form = try #require(DataForm(element))
        #expect(form.fields.map(\.name) == ["a"])
        #expect(form.fields[0].values.isEmpty)
    }

    @Test(arguments: [
        "<x xmlns='jabber:x:data'><field var='a'/></x>",              // no type
        "<x xmlns='jabber:x:other' type='form'/>",                     // another namespace
        "<form xmlns='jabber:x:data' type='form'/>",                   // another name
        "<x type='form'/>",                                            // jabber:client
    ])
    func isNilForAnythingButADataForm(_ xml: String) throws {
        #expect(DataForm(try parse(xml)) == nil)
    }

    // MARK: - value(_:)

    @Test func valueReturnsTheSingleValue() {
        #expect(form.value("FORM_TYPE") == "jabber:iq:register")
        #expect(form.value("challenge") == "bm9uY2U=")
    }

    @Test func valueIsNilForAnAbsentField() {
        #expect(form.value("password") == nil)
        #expect(form.value("") == nil)
        #expect(form.value("form_type") == nil)  // names are case-sensitive
    }

    @Test func valueIsNilForAFieldWithoutValue() {
        #expect(form.value("username") == nil)
    }

    @Test func valueIsNilForAMultiValuedField() {
        #expect(form.value("tags") == nil)
    }

    @Test func valueIsNilForADuplicatedField() {
        let duplicated = DataForm(type: "submit", fields: [
            DataForm.Field("username", values: ["alice"]),
            DataForm.Field("username", values: ["mallory"]),
        ])
        #expect(duplicated.value("username") == nil)
        // Even when the copies agree.
        let agreeing = DataForm(type: "submit", fields: [DataForm.Field("u", values: ["a"]), DataForm.Field("u", values: ["a"])])
        #expect(agreeing.value("u") == nil)
    }

    @Test func valueMayBeEmptyText() throws {
        let element = try parse("<x xmlns='jabber:x:data' type='submit'><field var='a'><value/></field></x>")
        #expect(DataForm(element)?.value("a") == "")
    }
}
