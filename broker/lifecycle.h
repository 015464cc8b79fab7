/* SPDX-License-Identifier: LGPL-2.1-or-later */
#pragma once

#include <systemd/sd-bus.h>

/* Container lifecycle methods of the Manager (lifecycle*.c): rename,
 * pause, inspection, top, changes, prune, resource updates. */
int method_rename_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_pause_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_unpause_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_inspect_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_ports(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_ip(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_port_override(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_top_container(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_get_container_changes(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_prune_containers(sd_bus_message *m, void *userdata, sd_bus_error *error);
int method_update_container_resources(sd_bus_message *m, void *userdata, sd_bus_error *error);

/* Ports a container declares (lifecycle-inspect.c). */
typedef struct ContainerPort {
        uint16_t container_port;
        char protocol[4];        /* "tcp" or "udp" */
        char host_ip[64];
        uint16_t host_port;
} ContainerPort;

#define CONTAINER_PORTS_MAX 1024
/* From the spec (endpoints[], port_mappings[]) and the network mode. */
int container_ports_from_spec(const char *spec_json, const char *network_mode, ContainerPort **ret, size_t *ret_n);

/* ps(1) for TopContainer (lifecycle-top.c): @ps_args as given by the caller;
 * on -EINVAL *ret_error names the argument not understood. */
int top_parse_args(char **ps_args, char ***ret_fields, char **ret_error);
int top_titles(char **fields, char ***ret);
int top_row(const char *proc, pid_t pid, char **fields, uint64_t boot_time_sec, char ***ret);
