/* jointq.c — placeholder until models/joint.c lands: no joint term. */
#include <string.h>

#include "query/jointq.h"

int q_joint_prepare(sqlite3 *db, const query *q, q_joint *j)
{
    (void)db; (void)q;
    memset(j, 0, sizeof *j);
    return 0;
}

void q_joint_done(q_joint *j) { q_emb_done(&j->scan); }
