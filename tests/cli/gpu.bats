#!/usr/bin/env bats
# --gpus and --runtime nvidia (issue 8, docs/gpu.md) without a GPU: the
# NVIDIA fallback against a fake driver tree (BERTH_NVIDIA_ROOT: device
# nodes made with mknod, a real shared library in a loader cache made by
# ldconfig -r, an nvidia-smi script, /proc/driver/nvidia's UUIDs); the
# container's own ldconfig; docker's parsing of --gpus and its errors; the
# images' NVIDIA_VISIBLE_DEVICES and NVIDIA_DRIVER_CAPABILITIES; CDI's
# nvidia.com/gpu preferred when a spec exists.

load helpers

ARCH_DIR=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)

setup() {
  container_setup
  command -v cc >/dev/null || skip "requires a C compiler for the fake driver library"
  make_probe_image img
  make_driver
  export BERTH_NVIDIA_ROOT="$DRIVER"
}
teardown() { container_teardown; }

gpu_info() { # MINOR UUID
  mkdir -p "$DRIVER/proc/driver/nvidia/gpus/0000:0$1:00.0"
  printf 'Model: \t\t Fake GPU\nGPU UUID: \t %s\nDevice Minor: \t %s\n' "$2" "$1" \
    >"$DRIVER/proc/driver/nvidia/gpus/0000:0$1:00.0/information"
}

make_driver() {
  DRIVER="$BATS_TEST_TMPDIR/driver"
  mkdir -p "$DRIVER/dev" "$DRIVER/etc" "$DRIVER$ARCH_DIR" "$DRIVER/usr/bin"
  mknod "$DRIVER/dev/nvidiactl" c 195 255
  mknod "$DRIVER/dev/nvidia-uvm" c 235 0
  mknod "$DRIVER/dev/nvidia0" c 195 0
  mknod "$DRIVER/dev/nvidia1" c 195 1
  gpu_info 0 GPU-00000000-aaaa-bbbb-cccc-000000000000
  gpu_info 1 GPU-11111111-aaaa-bbbb-cccc-111111111111
  echo 'int fake_nvml(void) { return 42; }' >"$BATS_TEST_TMPDIR/nvml.c"
  cc -shared -fPIC -Wl,-soname,libnvidia-ml.so.1 -o "$DRIVER$ARCH_DIR/libnvidia-ml.so.550.1" "$BATS_TEST_TMPDIR/nvml.c"
  cc -shared -fPIC -Wl,-soname,libcuda.so.1 -o "$DRIVER$ARCH_DIR/libcuda.so.550.1" "$BATS_TEST_TMPDIR/nvml.c"
  echo "$ARCH_DIR" >"$DRIVER/etc/ld.so.conf"
  ldconfig -r "$DRIVER"
  printf '#!/bin/sh\nfor d in /dev/nvidia[0-9]*; do [ -e "$d" ] && echo "GPU ${d#/dev/nvidia}: Fake GPU"; done; true\n' >"$DRIVER/usr/bin/nvidia-smi"
  chmod +x "$DRIVER/usr/bin/nvidia-smi"
}

# an image from img's rootfs with more config: image_with NAME CHANGE...
image_with() {
  local name=$1 change args=()
  shift
  for change in "$@"; do args+=(--change "$change"); done
  tar -C "$BATS_TEST_TMPDIR/rootfs-img" -c . | berth import --change 'CMD ["sh"]' "${args[@]}" - "$name" >/dev/null
}

@test "gpu: --gpus all binds the driver found on the host: nodes, libraries, binaries" {
  run berth run --rm --gpus all img sh -c '
    stat -c "%n %t:%T" /dev/nvidiactl /dev/nvidia-uvm /dev/nvidia0 /dev/nvidia1
    nvidia-smi
    echo $NVIDIA_VISIBLE_DEVICES
    ls '"$ARCH_DIR"'
    grep " '"$ARCH_DIR"'/libcuda.so.550.1 " /proc/self/mounts | grep -c "ro,nosuid,nodev"
    cat /dev/nvidia0 2>&1; (echo >>'"$ARCH_DIR"'/libcuda.so.550.1) 2>&1 | grep -c Read-only'
  assert_success
  assert_output "/dev/nvidiactl c3:ff
/dev/nvidia-uvm eb:0
/dev/nvidia0 c3:0
/dev/nvidia1 c3:1
GPU 0: Fake GPU
GPU 1: Fake GPU
all
libcuda.so.1
libcuda.so.550.1
libnvidia-ml.so.1
libnvidia-ml.so.550.1
1
cat: can't open '/dev/nvidia0': No such device or address
1"
}

@test "gpu: --gpus N, device=INDEX, device=UUID and count= select the GPUs, as docker parses them" {
  local req
  for req in 1:0 2:0,1 '"device=1"':1 device=GPU-11111111-aaaa-bbbb-cccc-111111111111:1 count=2:0,1 \
    '"device=0,1"':0,1 'all,capabilities=utility':0,1; do
    run berth run --rm --gpus "${req%:*}" img sh -c 'ls /dev | sed -n "s/^nvidia\([0-9]\)/\1/p" | paste -sd,'
    assert_success
    [ "$output" = "${req##*:}" ] || fail "--gpus ${req%:*}: got $output, want ${req##*:}"
  done
  run berth run --rm --gpus 3 img true
  assert_failure 125
  assert_output --partial "CDI device injection failed: unresolvable CDI devices nvidia.com/gpu=2"
}

@test "gpu: driver capabilities choose the libraries; the container's own ldconfig runs inside it" {
  run berth run --rm --gpus 'all,capabilities=utility' img sh -c 'echo $NVIDIA_DRIVER_CAPABILITIES; ls '"$ARCH_DIR"
  assert_output "utility
libnvidia-ml.so.1
libnvidia-ml.so.550.1"
  # an image with an ldconfig of its own: it sees the bound libraries
  # (as root, with the container's capabilities and seccomp filter)
  mkdir -p "$BATS_TEST_TMPDIR/rootfs-img/sbin"
  printf '#!/bin/sh\n{ echo "ldconfig $* uid $(id -u)"; grep -E "^(CapEff|Seccomp):" /proc/self/status; ls %s; } >/etc/ldconfig-ran\n' \
    "$ARCH_DIR" >"$BATS_TEST_TMPDIR/rootfs-img/sbin/ldconfig"
  chmod +x "$BATS_TEST_TMPDIR/rootfs-img/sbin/ldconfig"
  image_with ldimg
  local want="ldconfig  uid 0
CapEff:	00000000a80425fb
Seccomp:	2
libcuda.so.1
libcuda.so.550.1"
  run berth run --rm --gpus 'all,capabilities=compute' ldimg cat /etc/ldconfig-ran
  assert_output "$want"
  run berth run --rm --gpus 'all,capabilities=compute' --security-opt no-new-privileges --user 65534 ldimg cat /etc/ldconfig-ran
  assert_output "$want"
  # without GPUs it never runs; with a read-only root neither, the libraries are still there
  run berth run --rm ldimg cat /etc/ldconfig-ran
  assert_failure
  run berth run --rm --read-only --gpus all ldimg sh -c 'ls /etc/ldconfig-ran; ls '"$ARCH_DIR"' | grep -c libcuda'
  assert_output --partial "No such file or directory"
  assert_line 2
}

@test "gpu: the image's NVIDIA_VISIBLE_DEVICES and NVIDIA_DRIVER_CAPABILITIES count, with --runtime nvidia or --gpus" {
  image_with cuda 'ENV NVIDIA_VISIBLE_DEVICES=1' 'ENV NVIDIA_DRIVER_CAPABILITIES=utility'
  run berth run --rm --runtime nvidia cuda sh -c 'ls /dev | grep ^nvidia | paste -sd,; ls '"$ARCH_DIR"' 2>/dev/null | paste -sd,'
  assert_output "nvidia-uvm,nvidia1,nvidiactl
libnvidia-ml.so.1,libnvidia-ml.so.550.1"
  # --gpus sets the devices, the image's capabilities stay
  run berth run --rm --gpus all cuda sh -c 'ls /dev | grep ^nvidia | paste -sd,; ls '"$ARCH_DIR"' | paste -sd,'
  assert_output "nvidia-uvm,nvidia0,nvidia1,nvidiactl
libnvidia-ml.so.1,libnvidia-ml.so.550.1"
  # neither: the image's variables alone do nothing
  run berth run --rm cuda sh -c 'ls /dev | grep -c ^nvidia'
  assert_output 0
  # none: the driver without GPUs; void: nothing
  run berth run --rm --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=none cuda sh -c 'ls /dev | grep ^nvidia | paste -sd,; nvidia-smi -L'
  assert_output "nvidia-uvm,nvidiactl"
  run berth run --rm --runtime nvidia -e NVIDIA_VISIBLE_DEVICES=void cuda sh -c 'ls /dev | grep -c ^nvidia'
  assert_output 0
}

@test "gpu: an nvidia.com/gpu CDI spec is used for --gpus when there is one" {
  mkdir -p "$BATS_TEST_TMPDIR/cdi"
  cat >"$BATS_TEST_TMPDIR/cdi/nvidia.yaml" <<EOF
cdiVersion: 0.5.0
kind: nvidia.com/gpu
containerEdits:
  env: [NVIDIA_VISIBLE_DEVICES=void, FROM_CDI=spec]
  deviceNodes: [{path: /dev/nvidiactl, hostPath: $DRIVER/dev/nvidiactl}]
devices:
- name: "0"
  containerEdits:
    deviceNodes: [{path: /dev/nvidia0, hostPath: $DRIVER/dev/nvidia0}]
- name: all
  containerEdits:
    deviceNodes: [{path: /dev/nvidia0, hostPath: $DRIVER/dev/nvidia0}]
    env: [FROM_CDI=all]
EOF
  run berth --cdi-spec-dir "$BATS_TEST_TMPDIR/cdi" run --rm --gpus all img sh -c \
    'echo $FROM_CDI $NVIDIA_VISIBLE_DEVICES; ls /dev | grep ^nvidia | paste -sd,; ls '"$ARCH_DIR"' 2>&1 | grep -c libcuda'
  assert_output "all void
nvidia0,nvidiactl
0"
  run berth --cdi-spec-dir "$BATS_TEST_TMPDIR/cdi" run --rm --gpus 2 img true
  assert_failure 125
  assert_output --partial "unresolvable CDI devices nvidia.com/gpu=1"
}

@test "gpu: docker's errors for bad requests, a missing driver and an unknown runtime" {
  run berth run --rm --gpus foo img true
  assert_failure 125
  assert_line 'invalid argument "foo" for "--gpus" flag: count must be an integer: strconv.Atoi: parsing "foo": invalid syntax'
  run berth run --rm --gpus all,bogus=1 img true
  assert_line "invalid argument \"all,bogus=1\" for \"--gpus\" flag: unexpected key 'bogus' in 'bogus=1'"
  run berth run --rm --gpus all,count=2 img true
  assert_line "invalid argument \"all,count=2\" for \"--gpus\" flag: gpu request key 'count' can be specified only once"
  run berth run --rm --gpus device=0,1 img true
  assert_failure 125
  assert_output --partial "cannot set both Count and DeviceIDs on device request"
  run berth run --rm --gpus driver=amd img true
  assert_failure 125
  assert_output --partial 'could not select device driver "amd" with capabilities: [[gpu]]'
  BERTH_NVIDIA_ROOT="$BATS_TEST_TMPDIR/empty" run berth run --rm --gpus all img true
  assert_failure 125
  assert_output --partial "could not select device driver \"\" with capabilities: [[gpu]]: no NVIDIA driver found (no $BATS_TEST_TMPDIR/empty/dev/nvidiactl)"
  run berth run --rm --runtime bogus img true
  assert_failure 125
  assert_output --partial "unknown or invalid runtime name: bogus"
}

@test "gpu: inspect shows the request; --ipc host and --shm-size work beside it" {
  berth create --name gpu-c --gpus all --runtime nvidia img true >/dev/null
  run berth inspect -f '{{json .HostConfig.DeviceRequests}} {{.HostConfig.Runtime}}' gpu-c
  assert_output '[{"Capabilities":[["gpu"]],"Count":-1,"DeviceIDs":null,"Driver":"","Options":{}}] nvidia'
  run berth run --rm --gpus all --shm-size 1g img sh -c 'df -k /dev/shm | tail -1 | awk "{print \$2}"; ls /dev/nvidia0'
  assert_success
  assert_output "1048576
/dev/nvidia0"
  run berth run --rm --gpus all --ipc host img sh -c 'readlink /proc/1/ns/ipc'
  assert_output "$(readlink /proc/self/ns/ipc)"
}

@test "gpu: --ulimit memlock=-1 beside --gpus" {
  prlimit --memlock=unlimited:unlimited true 2>/dev/null ||
    skip "raising RLIMIT_MEMLOCK needs CAP_SYS_RESOURCE, which this host's root lacks"
  run berth run --rm --gpus all --ulimit memlock=-1 img sh -c 'ulimit -l; ulimit -Hl'
  assert_success
  assert_output "unlimited
unlimited"
}

@test "gpu: info lists the GPUs of the driver found on the host" {
  run berth info -f '{{json .DiscoveredDevices}}'
  assert_output '[{"ID":"nvidia.com/gpu=0","Source":"nvidia"},{"ID":"nvidia.com/gpu=GPU-00000000-aaaa-bbbb-cccc-000000000000","Source":"nvidia"},{"ID":"nvidia.com/gpu=1","Source":"nvidia"},{"ID":"nvidia.com/gpu=GPU-11111111-aaaa-bbbb-cccc-111111111111","Source":"nvidia"},{"ID":"nvidia.com/gpu=all","Source":"nvidia"}]'
  run berth info
  assert_line "  nvidia: nvidia.com/gpu=1"
}
