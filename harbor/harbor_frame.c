/*
 * harbor_frame.c — which protobuf-c message each harbor record type carries.
 * The link (link/) knows only its own record types; harbor's live here.
 */
#include "harbor_frame.h"

#include "harbor.pb-c.h"
#include "link.pb-c.h"

_Static_assert(SKIFF__HARBOR__FRAME_TYPE__DATA >= LINK_TYPE_USER_MIN,
               "harbor frame types start above the link's own");

const ProtobufCMessageDescriptor *harbor_frame_descriptor(unsigned type)
{
	switch (type) {
	case SKIFF__LINK__RECORD_TYPE__HEARTBEAT: return &skiff__link__heartbeat__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__DATA: return &skiff__harbor__data__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__CALL_FAILED: return &skiff__harbor__call_failed__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NODE_ANNOUNCE: return &skiff__harbor__node_announce__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NODE_TABLE: return &skiff__harbor__node_table__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NODE_JOIN: return &skiff__harbor__node_join__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVE: return &skiff__harbor__node_leave__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NAME_REGISTER: return &skiff__harbor__name_register__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NAME_QUERY: return &skiff__harbor__name_query__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NAME_ANSWER: return &skiff__harbor__name_answer__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NAME_WITHDRAW: return &skiff__harbor__name_withdraw__descriptor;
	case SKIFF__HARBOR__FRAME_TYPE__NODE_LEAVING: return &skiff__harbor__node_leaving__descriptor;
	default: return NULL;
	}
}
