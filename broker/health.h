/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <json-c/json.h>

#include "broker.h"

/* Health checks of running containers (health.c). */
typedef struct Health Health;

/* Starts checking when the container's config.json has a health check
 * (called when it becomes running); stop keeps the last status and log. */
void container_health_start(Container *c);
/* Starts checking unless checks already run (state set to running again). */
void container_health_ensure(Container *c);
void container_health_stop(Container *c);
void container_health_free(Container *c);
void health_free(Health *h);
/* State.Health of InspectContainer (Docker's shape), NULL without a check. */
json_object *container_health_to_json(const Container *c);
