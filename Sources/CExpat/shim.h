#include <expat.h>
#include <string.h>  // strlen, for the NUL-terminated names and values expat hands over

// Debian 12's expat (2.5.0-1+deb12u5, still reporting 2.5.0) backports the
// CVE-2023-52425 reparse deferral, which holds back complete stanzas fed in
// small chunks. The switch that turns it off appeared in expat 2.6.0, and the
// version macros cannot say whether a 2.5.0 library has it, so the symbol is
// declared weak here and looked up at run time: against an older libexpat it
// is simply null (and that expat never defers).
extern XML_Bool XML_SetReparseDeferralEnabled(XML_Parser parser, XML_Bool enabled)
    __attribute__((weak));

/// Returns 1 when this libexpat can switch reparse deferral off.
static inline int catroom_expat_has_reparse_deferral_switch(void) {
    return XML_SetReparseDeferralEnabled != 0;
}

/// Switches reparse deferral off when the library has the switch; returns 1 if it did.
/// Call after every XML_ParserCreate* and every XML_ParserReset (which re-enables it).
static inline int catroom_expat_disable_reparse_deferral(XML_Parser parser) {
    if (XML_SetReparseDeferralEnabled == 0) {
        return 0;
    }
    return XML_SetReparseDeferralEnabled(parser, XML_FALSE) == XML_TRUE;
}
