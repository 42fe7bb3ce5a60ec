#ifndef CJQ_SHIM_H
#define CJQ_SHIM_H

#include <stdio.h>
#include <jv.h>
#include <jq.h>

#endif
