#!/usr/bin/env bats
# berth's command line itself: version, info, help and usage errors.  The
# expected texts are docker CLI 28.2.2's (the client the project targets),
# with "docker" read as "berth"; each was checked with the installed client,
# which answers these without a daemon.

load helpers

# Every command and subcommand, and the usage line docker prints for it.
COMMAND_USAGE=(
  "images|[OPTIONS] [REPOSITORY[:TAG]]"
  "info|[OPTIONS]"
  "version|[OPTIONS]"
  "help|[command]"
  "history|[OPTIONS] IMAGE"
  "import|[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"
  "inspect|[OPTIONS] NAME|ID [NAME|ID...]"
  "load|[OPTIONS]"
  "rmi|[OPTIONS] IMAGE [IMAGE...]"
  "save|[OPTIONS] IMAGE [IMAGE...]"
  "tag|SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"
  "image|COMMAND"
  "image bootstrap|[OPTIONS] busybox|debian [REPOSITORY[:TAG]]"
  "image history|[OPTIONS] IMAGE"
  "image import|[OPTIONS] file|URL|- [REPOSITORY[:TAG]]"
  "image inspect|[OPTIONS] IMAGE [IMAGE...]"
  "image load|[OPTIONS]"
  "image ls|[OPTIONS] [REPOSITORY[:TAG]]"
  "image list|[OPTIONS] [REPOSITORY[:TAG]]"
  "image prune|[OPTIONS]"
  "image rm|[OPTIONS] IMAGE [IMAGE...]"
  "image remove|[OPTIONS] IMAGE [IMAGE...]"
  "image save|[OPTIONS] IMAGE [IMAGE...]"
  "image tag|SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]"
  "system|COMMAND"
  "system df|[OPTIONS]"
  "system info|[OPTIONS]"
  "system prune|[OPTIONS]"
)

# The name cobra shows for an alias is the command's own name.
canonical_path() {
  case "$1" in
    "image list") echo "image ls" ;;
    "image remove") echo "image rm" ;;
    *) echo "$1" ;;
  esac
}

# usage_regex USAGE: the usage as a regex; berth has no URL import, so
# "file|-" stands for docker's "file|URL|-".
usage_regex() {
  local u
  u=$(printf '%s' "$1" | sed 's/[][|.*^$()+?{}\\]/\\&/g')
  printf '%s' "${u//file\\|URL\\|-/file\\|(URL\\|)?-}"
}

@test "version: Client and Server sections with the version, OS/Arch and API version" {
  run --separate-stderr berth version
  assert_success
  assert_equal "$stderr" ""
  assert_line --index 0 "Client:"
  assert_line --regexp '^ Version: +[0-9]+\.[0-9]+\.[0-9]+'
  assert_line --regexp '^ API version: +1\.[0-9]+'
  assert_line --regexp "^ OS/Arch: +linux/(amd64|arm64|arm|386|ppc64le|s390x|riscv64)$"
  assert_line --regexp '^Server'
  assert_line --regexp '^ Engine:$'
  assert_line --regexp '^  Version: +[0-9]+\.[0-9]+\.[0-9]+'
  assert_line --regexp '^  API version: +1\.[0-9]+ \(minimum version 1\.[0-9]+\)$'
}

@test "version --format '{{.Client.Version}}' prints the bare version, the one -v and --version print" {
  run --separate-stderr berth version --format '{{.Client.Version}}'
  assert_success
  assert_equal "$stderr" ""
  assert_output --regexp '^[0-9]+\.[0-9]+\.[0-9]+[-+.a-z0-9]*$'
  v=$output
  run berth --version
  assert_success
  assert_output --regexp "^berth version $v(, build [0-9a-f]+)?$"
  run berth -v
  assert_success
  assert_output --regexp "^berth version $v(, build [0-9a-f]+)?$"
  run berth version -f '{{json .}}'
  assert_success
  run jq -e --arg v "$v" '.Client.Version == $v and .Server.Version == $v and .Client.Os == "linux"' <<<"$output"
  assert_success
}

@test "version: a template that does not parse is 'template parsing error', exit 64 (docker's)" {
  run --separate-stderr berth version --format '{{'
  assert_failure 64
  assert_equal "$output" ""
  assert_equal "$(head -n1 <<<"$stderr")" "template parsing error: template: version:1: unclosed action"
}

@test "info: storage root, driver, cgroup version and driver, kernel" {
  run --separate-stderr berth info
  assert_success
  assert_line " Docker Root Dir: $TEST_ROOT"
  assert_line " Storage Driver: overlay"
  assert_line " Kernel Version: $(uname -r)"
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then cgv=2; else cgv=1; fi
  assert_line " Cgroup Version: $cgv"
  # A daemonless engine drives cgroups itself unless systemd runs the host.
  if [ -d /run/systemd/system ]; then
    assert_line --regexp '^ Cgroup Driver: (systemd|cgroupfs)$'
  else
    assert_line " Cgroup Driver: cgroupfs"
  fi
  assert_line " Images: 0"
  assert_line " OSType: linux"
  assert_line " CPUs: $(nproc)"
}

@test "info: the image count counts images, not tags, and includes dangling ones" {
  requires busybox
  bootstrap_busybox
  run berth tag busybox other:1
  assert_success
  run berth info --format '{{.Images}}'
  assert_success
  assert_output "1"
  import_files "" -- a=1
  run berth info
  assert_success
  assert_line " Images: 2"
}

@test "info --format: docker's field names" {
  run --separate-stderr berth info --format '{{.DockerRootDir}}|{{.Driver}}|{{.KernelVersion}}|{{.CgroupVersion}}|{{.Images}}|{{.OSType}}'
  assert_success
  if [ "$(stat -fc %T /sys/fs/cgroup)" = cgroup2fs ]; then cgv=2; else cgv=1; fi
  assert_output "$TEST_ROOT|overlay|$(uname -r)|$cgv|0|linux"
  run berth info --format '{{json .}}'
  assert_success
  run jq -e --arg r "$TEST_ROOT" '.DockerRootDir == $r and .Driver == "overlay" and .Images == 0
    and (.CgroupDriver | type) == "string" and (.NCPU | type) == "number"' <<<"$output"
  assert_success
}

@test "info and system info are the same command" {
  run berth info --format '{{json .}}'
  assert_success
  a=$(jq -S 'del(.SystemTime)' <<<"$output")
  run berth system info --format '{{json .}}'
  assert_success
  assert_equal "$(jq -S 'del(.SystemTime)' <<<"$output")" "$a"
}

@test "info: a template that does not parse is 'template parsing error', exit 64 (docker's)" {
  run --separate-stderr berth info --format '{{'
  assert_failure 64
  assert_equal "$(head -n1 <<<"$stderr")" "template parsing error: template: :1: unclosed action"
}

@test "--help, -h, and no arguments print the command list on stdout, exit 0" {
  for args in --help -h ""; do
    run --separate-stderr berth $args
    assert_success
    assert_equal "$stderr" ""
    assert_equal "${output%%$'\n'*}" "Usage:  berth [OPTIONS] COMMAND"
    assert_line "Management Commands:"
    assert_line --regexp '^  image +Manage images$'
    assert_line --regexp '^  system +Manage berth$'
    assert_line --regexp '^  images +List images$'
    assert_line --regexp '^  rmi +Remove one or more images$'
    assert_line --regexp '^  tag +Create a tag TARGET_IMAGE that refers to SOURCE_IMAGE$'
    assert_line "Run 'berth COMMAND --help' for more information on a command."
  done
}

@test "COMMAND --help for every command and subcommand: docker's usage line on stdout, exit 0" {
  errors=()
  for entry in "${COMMAND_USAGE[@]}"; do
    cmd=${entry%%|*}
    usage=${entry#*|}
    # shellcheck disable=SC2086
    run --separate-stderr berth $cmd --help
    [ "$status" -eq 0 ] || errors+=("berth $cmd --help: exit $status")
    [ -z "$stderr" ] || errors+=("berth $cmd --help wrote to stderr: $stderr")
    first=${output%%$'\n'*}
    [[ $first =~ ^Usage:\ \ berth\ $(canonical_path "$cmd" | sed 's/ /\\ /g')\ $(usage_regex "$usage")$ ]] ||
      errors+=("berth $cmd --help: first line is '$first', want 'Usage:  berth $(canonical_path "$cmd") $usage'")
    grep -Eq "^Usage:  berth $(canonical_path "$cmd") $(usage_regex "$usage")\$" <<<"$output" ||
      errors+=("berth $cmd --help: no 'Usage:  berth $(canonical_path "$cmd") $usage' line at all")
  done
  [ ${#errors[@]} -eq 0 ] || fail "$(printf '%s\n' "${errors[@]}")"
}

@test "COMMAND --help lists the command's aliases as docker does" {
  while IFS='|' read -r cmd aliases; do
    # shellcheck disable=SC2086
    run berth $cmd --help
    assert_success
    assert_line "Aliases:"
    assert_line "  $aliases"
  done <<'EOF'
images|berth image ls, berth image list, berth images
image ls|berth image ls, berth image list, berth images
rmi|berth image rm, berth image remove, berth rmi
image rm|berth image rm, berth image remove, berth rmi
tag|berth image tag, berth tag
history|berth image history, berth history
import|berth image import, berth import
load|berth image load, berth load
save|berth image save, berth save
info|berth system info, berth info
EOF
}

@test "COMMAND --help shows each command's options" {
  run berth images --help
  assert_success
  assert_line --regexp '^  -a, --all +Show all images \(default hides intermediate images\)$'
  assert_line --regexp '^      --digests +Show digests$'
  assert_line --regexp '^  -f, --filter filter +Filter output based on conditions provided$'
  assert_line --regexp '^      --no-trunc +Don.t truncate output$'
  assert_line --regexp '^  -q, --quiet +Only show image IDs$'
  run berth rmi --help
  assert_line --regexp '^  -f, --force +Force removal of the image$'
  assert_line --regexp '^      --no-prune +Do not delete untagged parents$'
  run berth image prune --help
  assert_line --regexp '^  -a, --all +Remove all unused images, not just dangling ones$'
  assert_line --regexp '^  -f, --force +Do not prompt for confirmation$'
  run berth history --help
  assert_line --regexp '^  -H, --human +Print sizes and dates in human readable format'
  assert_line --regexp '^  -q, --quiet +Only show image IDs$'
  run berth import --help
  assert_line --regexp '^  -c, --change list +Apply Dockerfile instruction to the created image$'
  assert_line --regexp '^  -m, --message string +Set commit message for imported image$'
  run berth save --help
  assert_line --regexp '^  -o, --output string +Write to a file, instead of STDOUT$'
  run berth load --help
  assert_line --regexp '^  -i, --input string +Read from tar archive file, instead of STDIN$'
  assert_line --regexp '^  -q, --quiet +Suppress the load output$'
  run berth system df --help
  assert_line --regexp '^  -v, --verbose +Show detailed information on space usage$'
  run berth inspect --help
  assert_line --regexp '^  -f, --format string +Format output using a custom template:$'
}

@test "group commands list their subcommands: image, system" {
  for args in "image" "image --help" "help image"; do
    # shellcheck disable=SC2086
    run --separate-stderr berth $args
    assert_success
    assert_equal "${output%%$'\n'*}" "Usage:  berth image COMMAND"
    for sub in bootstrap history import inspect load ls prune rm save tag; do
      assert_line --regexp "^  $sub  +[A-Z]"
    done
    refute_line --regexp '^  (list|remove) '
    assert_line "Run 'berth image COMMAND --help' for more information on a command."
  done
  run berth system --help
  assert_success
  assert_equal "${output%%$'\n'*}" "Usage:  berth system COMMAND"
  for sub in df info prune; do
    assert_line --regexp "^  $sub  +[A-Z]"
  done
}

@test "help COMMAND prints what COMMAND --help prints" {
  for cmd in images tag rmi "image ls" "image inspect" "system df" version; do
    # shellcheck disable=SC2086
    run berth $cmd --help
    assert_success
    want=$output
    # shellcheck disable=SC2086
    run --separate-stderr berth help $cmd
    assert_success
    assert_equal "$stderr" ""
    assert_equal "$output" "$want"
  done
}

@test "help of an unknown topic: 'unknown help topic: foo', exit 1" {
  run --separate-stderr berth help foo
  assert_failure 1
  assert_equal "$output" ""
  [[ $stderr =~ ^(Error:\ )?unknown\ help\ topic:\ foo$ ]] || fail "stderr: $stderr"
  run --separate-stderr berth help image foo
  assert_failure 1
  [[ $stderr =~ ^(Error:\ )?unknown\ help\ topic:\ foo$ ]] || fail "stderr: $stderr"
}

@test "unknown command: 'berth: unknown command: berth foo', exit 1 (docker 28)" {
  run --separate-stderr berth foo
  assert_failure 1
  assert_equal "$output" ""
  assert_equal "$stderr" "berth: unknown command: berth foo

Run 'berth --help' for more information"
}

@test "unknown subcommand: 'berth: unknown command: berth image foo' with the group's usage, exit 1" {
  run --separate-stderr berth image foo
  assert_failure 1
  assert_equal "$output" ""
  assert_equal "$stderr" "berth: unknown command: berth image foo

Usage:  berth image

Run 'berth image --help' for more information"
}

@test "unknown flag: 'unknown flag: --bogus', the usage line, exit 125" {
  run --separate-stderr berth images --bogus
  assert_failure 125
  assert_equal "$output" ""
  assert_equal "$stderr" "unknown flag: --bogus

Usage:  berth images [OPTIONS] [REPOSITORY[:TAG]]

Run 'berth images --help' for more information"
  run --separate-stderr berth image prune --bogus
  assert_failure 125
  assert_equal "$stderr" "unknown flag: --bogus

Usage:  berth image prune [OPTIONS]

Run 'berth image prune --help' for more information"
}

@test "unknown global flag: exit 125 with the top-level usage" {
  run --separate-stderr berth --bogus images
  assert_failure 125
  assert_equal "${stderr%%$'\n'*}" "unknown flag: --bogus"
  assert_equal "$(sed -n 3p <<<"$stderr")" "Usage:  berth [OPTIONS] COMMAND [ARG...]"
  assert_equal "${stderr##*$'\n'}" "Run 'berth --help' for more information"
}

@test "unknown shorthand flag and a flag without its value: exit 125" {
  run --separate-stderr berth images -z
  assert_failure 125
  assert_equal "${stderr%%$'\n'*}" "unknown shorthand flag: 'z' in -z"
  assert_equal "${stderr##*$'\n'}" "Run 'berth images --help' for more information"
  run --separate-stderr berth images --format
  assert_failure 125
  assert_equal "${stderr%%$'\n'*}" "flag needs an argument: --format"
  run --separate-stderr berth history -H=maybe busybox
  assert_failure 125
  assert_equal "${stderr%%$'\n'*}" "invalid argument \"maybe\" for \"-H, --human\" flag: strconv.ParseBool: parsing \"maybe\": invalid syntax"
}

@test "flags that take values accept --flag=value, -fvalue and -f value; bools take =true|false" {
  requires busybox
  bootstrap_busybox
  want=$(berth images --format '{{.Repository}}')
  assert_equal "$want" "busybox"
  run berth images --format='{{.Repository}}'
  assert_output "$want"
  run berth images -f reference=busybox --format '{{.Repository}}'
  assert_output "$want"
  run berth images -freference=busybox --format '{{.Repository}}'
  assert_output "$want"
  run berth images -q=false --no-trunc=true --format '{{.ID}}'
  assert_output "$BUSYBOX_ID"
  run berth images -aq
  assert_output "${BUSYBOX_ID:7:12}"
}

@test "missing arguments: \"'berth tag' requires 2 arguments\", the usage, exit 1" {
  run --separate-stderr berth tag busybox
  assert_failure 1
  assert_equal "$output" ""
  assert_equal "$stderr" "berth: 'berth tag' requires 2 arguments

Usage:  berth tag SOURCE_IMAGE[:TAG] TARGET_IMAGE[:TAG]

Run 'berth tag --help' for more information"
  run --separate-stderr berth tag a b c
  assert_failure 1
  assert_equal "${stderr%%$'\n'*}" "berth: 'berth tag' requires 2 arguments"
}

@test "argument count errors of every command: docker's wording, exit 1" {
  errors=()
  while IFS='|' read -r cmd msg; do
    # shellcheck disable=SC2086
    run --separate-stderr berth $cmd
    [ "$status" -eq 1 ] || errors+=("berth $cmd: exit $status, want 1")
    [ -z "$output" ] || errors+=("berth $cmd wrote to stdout: $output")
    base=${cmd%% x*}
    base=${base%% a b}
    [ "${stderr%%$'\n'*}" = "berth: 'berth $base' $msg" ] ||
      errors+=("berth $cmd: first line '${stderr%%$'\n'*}', want \"berth: 'berth $base' $msg\"")
    [[ $stderr == *"Usage:  berth $base "* ]] || errors+=("berth $cmd: no usage line")
    [[ $stderr == *"'berth $base --help' for more information" ]] ||
      errors+=("berth $cmd: does not end with \"Run 'berth $base --help' for more information\"")
  done <<'EOF'
rmi|requires at least 1 argument
image rm|requires at least 1 argument
history|requires 1 argument
history a b|requires 1 argument
import|requires at least 1 argument
save|requires at least 1 argument
inspect|requires at least 1 argument
image inspect|requires at least 1 argument
image prune x|accepts no arguments
system df x|accepts no arguments
system prune x|accepts no arguments
version x|accepts no arguments
info x|accepts no arguments
load x|accepts no arguments
images a b|requires at most 1 argument
EOF
  [ ${#errors[@]} -eq 0 ] || fail "$(printf '%s\n' "${errors[@]}")"
}

@test "usage errors never touch the store" {
  run berth images --bogus
  assert_failure 125
  run berth tag a
  assert_failure 1
  run berth --help
  assert_success
  run berth images --help
  assert_success
  [ -z "$(ls -A "$TEST_ROOT")" ] || fail "store written: $(ls -A "$TEST_ROOT")"
}

@test "--root/--runroot also read as --root=DIR; BERTH_ROOT is the default" {
  requires busybox
  bootstrap_busybox
  run "$BERTH" --root="$TEST_ROOT" --runroot="$TEST_RUNROOT" images -q
  assert_success
  assert_output "${BUSYBOX_ID:7:12}"
  BERTH_ROOT=$TEST_ROOT BERTH_RUNROOT=$TEST_RUNROOT run "$BERTH" images -q
  assert_success
  assert_output "${BUSYBOX_ID:7:12}"
  run "$BERTH" -D --root "$TEST_ROOT" --runroot "$TEST_RUNROOT" images -q
  assert_success
  assert_line "${BUSYBOX_ID:7:12}"
}
