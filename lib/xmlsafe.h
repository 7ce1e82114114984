/* XML from strangers (a workbook's parts, a Word document's content
 * types), read with libxml2: no network, and no document type
 * declaration at all. The parser stops at one, in whatever encoding the
 * document is (UTF-16 has no byte "<!DOCTYPE" to look for), before any
 * of its declarations is read: no entity expansion (billion laughs), no
 * external entity. */
#ifndef WP_XMLSAFE_H
#define WP_XMLSAFE_H

#include <libxml/tree.h>
#include <stdbool.h>
#include <stddef.h>

/* The document, or NULL: *dtd true when it has a document type
 * declaration, else it is not well-formed XML. Free with xmlFreeDoc. */
xmlDoc *xmlsafe_read(const char *data, size_t len, bool *dtd);

#endif
