/* See xmlsafe.h. */
#include "xmlsafe.h"

#include <libxml/parser.h>
#include <limits.h>
#include <pthread.h>

static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

/* The parser met a document type declaration: it stops there, before
 * reading any of its declarations. */
static void dtd_met(void *ctx, const xmlChar *name, const xmlChar *external, const xmlChar *system)
{
	xmlParserCtxt *ctxt = ctx;

	(void)name;
	(void)external;
	(void)system;
	*(bool *)ctxt->_private = true;
	xmlStopParser(ctxt);
}

xmlDoc *xmlsafe_read(const char *data, size_t len, bool *dtd)
{
	xmlParserCtxt *ctxt;
	xmlDoc *doc = NULL;

	*dtd = false;
	if (len > INT_MAX)
		return NULL;
	pthread_once(&xml_once, xml_init);
	ctxt = xmlNewParserCtxt();
	if (!ctxt)
		return NULL;
	ctxt->_private = dtd;
	ctxt->sax->internalSubset = dtd_met;
	doc = xmlCtxtReadMemory(ctxt, data, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	xmlFreeParserCtxt(ctxt);
	if (doc && (doc->intSubset || doc->extSubset))
		*dtd = true;
	if (*dtd || (doc && !xmlDocGetRootElement(doc))) {
		xmlFreeDoc(doc);
		return NULL;
	}
	return doc;
}
