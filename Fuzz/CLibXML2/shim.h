#include <libxml/xmlversion.h>
// Debian builds libxml2 with ICU, whose headers clash with Foundation's copy of ICU in a
// Swift module importing both. Nothing here uses an encoding handler, the only structure
// the switch changes, so libxml2's headers are read without ICU.
#undef LIBXML_ICU_ENABLED
#include <libxml/parser.h>
#include <libxml/tree.h>

// libxml2, the second parser of the `xml-differential` fuzz target (test-only:
// Debian's libxml2-dev). docs/security-testing.md explains each option.
static const int catroom_xml2_options =
    XML_PARSE_NONET         // never fetch anything
    | XML_PARSE_NOCDATA     // CDATA sections as text, as expat reports them
    | XML_PARSE_OLD10       // XML 1.0 names as before the 5th edition, as expat reads them
    | XML_PARSE_NOERROR | XML_PARSE_NOWARNING;
// Not set: XML_PARSE_NOENT (entities stay references), XML_PARSE_DTDLOAD (no external
// subset is read), XML_PARSE_RECOVER (any well-formedness error refuses the document).

/// Counts libxml2's namespace errors except its complaints about a namespace name's URI
/// syntax, which Namespaces in XML leaves unchecked and expat does not check.
static void catroom_xml2_count_namespace_error(void *count, xmlErrorPtr error) {
    if (error->domain == XML_FROM_NAMESPACE && error->code != XML_WAR_NS_URI && error->code != XML_WAR_NS_URI_RELATIVE) {
        *(int *)count += 1;
    }
}

/// Parses a whole document; NULL when it is not well-formed. `*namespace_errors` counts
/// what breaks Namespaces in XML: libxml2 reports those apart and keeps the document.
static inline xmlDocPtr catroom_xml2_read(const char *bytes, int size, int *namespace_errors) {
    *namespace_errors = 0;
    xmlInitParser();  // once; later calls return at once
    xmlParserCtxtPtr context = xmlNewParserCtxt();
    if (context == NULL) {
        return NULL;
    }
    xmlSetStructuredErrorFunc(namespace_errors, catroom_xml2_count_namespace_error);
    xmlDocPtr document = xmlCtxtReadMemory(context, bytes, size, NULL, NULL, catroom_xml2_options);
    xmlSetStructuredErrorFunc(NULL, NULL);
    if (document != NULL && !context->wellFormed) {
        xmlFreeDoc(document);
        document = NULL;
    }
    xmlFreeParserCtxt(context);
    return document;
}

/// An attribute's value with references resolved; free it with catroom_xml2_free.
static inline char *catroom_xml2_attribute_value(xmlDocPtr document, xmlAttrPtr attribute) {
    return (char *)xmlNodeListGetString(document, attribute->children, 1);
}

static inline void catroom_xml2_free(void *pointer) {
    xmlFree(pointer);
}
