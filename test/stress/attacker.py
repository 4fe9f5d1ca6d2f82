# The attacks Node has no call for: punching a hole, a writable shared mapping, setting an xattr.
# Prints one JSON object: operation -> "ok" or the errno name. Run without CAP_LINUX_IMMUTABLE.
import ctypes
import errno
import json
import mmap
import os
import sys

path = sys.argv[1]
libc = ctypes.CDLL(None, use_errno=True)
FALLOC_FL_KEEP_SIZE, FALLOC_FL_PUNCH_HOLE = 0x01, 0x02


def attempt(run):
    try:
        run()
        return "ok"
    except OSError as error:
        return errno.errorcode.get(error.errno, str(error.errno))


def punch_hole():
    fd = os.open(path, os.O_WRONLY | os.O_APPEND)
    try:
        if libc.fallocate(fd, FALLOC_FL_KEEP_SIZE | FALLOC_FL_PUNCH_HOLE, ctypes.c_long(0), ctypes.c_long(4)) != 0:
            code = ctypes.get_errno()
            raise OSError(code, os.strerror(code))
    finally:
        os.close(fd)


def shared_mapping():
    fd = os.open(path, os.O_RDWR | os.O_APPEND)
    try:
        mapping = mmap.mmap(fd, 0, flags=mmap.MAP_SHARED, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        mapping[0:1] = b"X"
        mapping.close()
    finally:
        os.close(fd)


print(json.dumps({
    "punchHole": attempt(punch_hole),
    "sharedMmap": attempt(shared_mapping),
    "setxattr": attempt(lambda: os.setxattr(path, "user.forged", b"1")),
}))
