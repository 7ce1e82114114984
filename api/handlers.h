/* Every HTTP handler, one file per resource (api/h_<resource>.c). */
#ifndef WP_HANDLERS_H
#define WP_HANDLERS_H

struct request;

int h_health(struct request *rq);
int h_pillars_list(struct request *rq);
int h_pillar_get(struct request *rq);
int h_pillar_patch(struct request *rq);

#endif
