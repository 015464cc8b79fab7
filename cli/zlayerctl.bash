# shellcheck shell=bash
# bash completion for zlayerctl: commands, flags, container ids and image
# references (asked from zlayerd through zlayerctl itself).

__zlayerctl() {
        local bus=() w
        for w in "${COMP_WORDS[@]}"; do
                [[ $w == --bus=* ]] && bus=("$w")
        done
        command zlayerctl "${bus[@]}" "$@" 2>/dev/null
}

_zlayerctl() {
        local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD - 1]}
        local verb="" i flags="" args=""

        for ((i = 1; i < COMP_CWORD; i++)); do
                [[ ${COMP_WORDS[i]} == -* ]] && continue
                verb=${COMP_WORDS[i]}
                break
        done
        if [[ -z $verb ]]; then
                if [[ $cur == -* ]]; then
                        COMPREPLY=($(compgen -W "--bus= --no-ask-password --help --version" -- "$cur"))
                        [[ ${COMPREPLY[0]} == --bus= ]] && compopt -o nospace
                else
                        COMPREPLY=($(compgen -W "$(__zlayerctl --list-verbs)" -- "$cur"))
                fi
                return
        fi

        case $verb in
        run|create)
                flags="-e --env -v --volume --tmpfs -p --publish -m --memory --cpus --pids-limit -u --user
                       -w --workdir --entrypoint --hostname --network --restart --read-only --cap-add --cap-drop
                       --privileged --service --name --replica -l --label --pull --stop-signal --stop-timeout --help"
                [[ $verb == run ]] && flags+=" -d --detach --rm -i -t"
                case $prev in
                --network|--net) COMPREPLY=($(compgen -W "none host bridge default" -- "$cur")); return ;;
                --restart) COMPREPLY=($(compgen -W "no always unless-stopped on-failure" -- "$cur")); return ;;
                --pull) COMPREPLY=($(compgen -W "missing always never" -- "$cur")); return ;;
                -v|--volume|--tmpfs) COMPREPLY=($(compgen -d -- "$cur")); return ;;
                -e|--env|-p|--publish|-m|--memory|--cpus|--pids-limit|-u|--user|-w|--workdir|--entrypoint|\
                --hostname|--cap-add|--cap-drop|--service|--name|--replica|-l|--label|--stop-signal|--stop-timeout)
                        return ;;
                esac
                args=images ;;
        pull) flags="-q --quiet --help"; args=images ;;
        images) flags="--json -q --quiet --no-trunc --digests --format -f --filter -a --all --help" ;;
        rmi|history|save|tag) flags="--help"; [[ $verb == rmi ]] && flags+=" -f --force"
                [[ $verb == save ]] && flags+=" -o --output"; args=images ;;
        inspect) flags="--type --help"; args="containers images" ;;
        ps) flags="-a --all -q --quiet --json --format -f --filter --help" ;;
        start) flags="-a --attach -i --interactive --help"; args=containers ;;
        attach) flags="--no-stdin --help"; args=containers ;;
        wait|pause|unpause|port|diff|top|rename) flags="--help"; args=containers ;;
        stop) flags="-t --time --help"; args=containers ;;
        kill) flags="-s --signal --help"; args=containers
                [[ $prev == -s || $prev == --signal ]] && { COMPREPLY=($(compgen -W "KILL TERM INT HUP USR1 USR2" -- "$cur")); return; } ;;
        rm) flags="-f --force --help"; args=containers ;;
        logs) flags="-f --follow -t --timestamps -n --tail --since --until --help"; args=containers ;;
        exec) flags="--help"; args=containers ;;
        export|commit) flags="-o --output --help"; args=containers ;;
        update) flags="--memory --cpus --pids-limit --restart --help"; args=containers ;;
        stats) flags="--no-stream --help"; args=containers ;;
        load) flags="-i --input -q --quiet --help" ;;
        container) COMPREPLY=($(compgen -W "ls prune" -- "$cur")); return ;;
        image) COMPREPLY=($(compgen -W "ls pull rm inspect prune" -- "$cur")); return ;;
        deploy|import) COMPREPLY=($(compgen -f -- "$cur")); return ;;
        esac

        if [[ $cur == -* ]]; then
                COMPREPLY=($(compgen -W "$flags" -- "$cur"))
                return
        fi
        local words=""
        [[ $args == *containers* ]] && words+=" $(__zlayerctl ps -a --format '{{.ID}}')"
        [[ $args == *images* ]] && words+=" $(__zlayerctl images --format '{{.Repository}}:{{.Tag}}' | grep -v '^<none>:')"
        COMPREPLY=($(compgen -W "$words" -- "$cur"))
}

complete -F _zlayerctl zlayerctl
