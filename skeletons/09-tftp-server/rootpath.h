/*
 * rootpath.h — opening a name a stranger sent, without ever leaving ROOT.
 *
 * A TFTP request carries a file name chosen by whoever sent the datagram: "../../etc/passwd",
 * "/etc/shadow", or "pub/link" where pub/link is a symbolic link to /. Gluing ROOT and the
 * name into one path and calling open() lets the kernel follow every ".." and every link,
 * wherever it leads. Checking the glued path first (realpath(3), then a prefix test) leaves a
 * gap between the check and the open in which a link can change.
 *
 * So the name is never handed to the kernel whole. It is split into its components, each
 * checked, and the folders are walked one at a time with openat(2), each relative to the
 * previous one's descriptor, with O_NOFOLLOW: a symbolic link is refused where it stands,
 * inside or outside ROOT, and ".." never gets to the kernel at all. What is opened is what
 * was checked.
 *
 * The rule, then: NAME is a relative path whose components are separated by single '/', none
 * of them empty, "." or "..", none a symbolic link; at most ROOTPATH_NAME_MAX bytes. Any
 * other name is refused (TFTP error 2, access violation).
 *
 * Yours to write: steps D to G, marked TODO below. Until they are written, every name is
 * refused — a server that serves nothing is safe; one that serves everything is not.
 */
#ifndef SOCKLAB_ROOTPATH_H
#define SOCKLAB_ROOTPATH_H

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define ROOTPATH_NAME_MAX (PATH_MAX - 1)   /* bytes of a whole name (PATH_MAX counts the NUL) */
#define ROOTPATH_PART_MAX NAME_MAX         /* bytes of one component (255 on Linux) */

/* Why a name cannot be opened; the caller turns these into TFTP error codes. */
enum rootpath_result {
    ROOTPATH_OK = 0,
    ROOTPATH_REFUSED,     /* the name breaks the rule above: error 2 */
    ROOTPATH_NOT_FOUND,   /* a folder on the way, or the file, does not exist: error 1 */
    ROOTPATH_DENIED,      /* the system said no (permissions): error 2 */
    ROOTPATH_EXISTS,      /* a write request for a name already taken: error 6 */
    ROOTPATH_FAILED,      /* anything else; errno says what */
};

/* Does `name` follow the rule? Checks only the text, never the disk. */
static inline int rootpath_name_ok(const char *name, size_t len)
{
    /* TODO(step D): refuse (return 0) an empty name, one longer than ROOTPATH_NAME_MAX, one
     * that starts with '/'. Then walk the components between the '/' (memchr(3)): refuse an
     * empty one ("a//b", "a/"), one longer than ROOTPATH_PART_MAX, "." and "..". Compare
     * lengths and bytes: ".." is a component of 2 bytes, not strstr(name, ".."), which would
     * refuse "notes..txt" and is no safer. */
    (void)name;
    (void)len;
    return 0;
}

static inline enum rootpath_result rootpath_from_errno(int error)
{
    switch (error) {
    case ENOENT:
    case ENOTDIR:    /* a component that should be a folder is a file */
        return ROOTPATH_NOT_FOUND;
    case ELOOP:      /* O_NOFOLLOW met a symbolic link */
    case EACCES:
    case EPERM:
        return ROOTPATH_DENIED;
    default:
        return ROOTPATH_FAILED;
    }
}

/*
 * Walks `name` (which rootpath_name_ok() accepted) from the folder `root_fd` down to the
 * folder that holds its last component. Stores a new descriptor of that folder in *dir_fd
 * (the caller closes it) and a pointer to the last component, inside `name`, in *base.
 * `name` must be NUL-terminated.
 */
static inline enum rootpath_result rootpath_parent(int root_fd, const char *name, int *dir_fd,
                                                   const char **base)
{
    /* TODO(step E): start from a descriptor of your own for ROOT: openat(root_fd, ".",
     * O_RDONLY | O_DIRECTORY | O_CLOEXEC). For each component before the last, copy it into
     * a buffer of ROOTPATH_PART_MAX + 1 bytes and open it relative to the current folder with
     * O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC; close the folder you came from. On a
     * failure close what you hold and return rootpath_from_errno(errno). Careful: with
     * O_DIRECTORY, a symbolic link fails with ENOTDIR, as a file would; fstatat(2) with
     * AT_SYMLINK_NOFOLLOW tells a link (S_ISLNK), which must be refused, not "not found".
     * See openat(2) (O_NOFOLLOW, O_DIRECTORY), path_resolution(7). */
    (void)root_fd;
    (void)name;
    (void)dir_fd;
    (void)base;
    errno = ENOSYS;
    return ROOTPATH_FAILED;
}

/*
 * Opens `name` under `root_fd` for reading: a regular file, never a link, a folder, a device
 * or a FIFO. Stores the descriptor in *fd.
 */
static inline enum rootpath_result rootpath_open_read(int root_fd, const char *name,
                                                      size_t len, int *fd)
{
    /* TODO(step F): rootpath_name_ok() (ROOTPATH_REFUSED if not), rootpath_parent(), then
     * openat() the last component with O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC (a
     * FIFO would make open() wait for a writer; O_NONBLOCK returns at once) and close the
     * folder. fstat(2) the file: anything but S_ISREG is ROOTPATH_REFUSED. */
    (void)root_fd;
    (void)name;
    (void)len;
    (void)fd;
    return ROOTPATH_REFUSED;
}

/*
 * Gets ready to write `name` under `root_fd`: checks the rule, walks to its folder (stored
 * in *dir_fd, which the caller closes, with the last component in *base), and makes sure
 * nothing — file, folder or link — has that name yet. The data then goes to a temporary
 * file in the same folder, linked to `base` only once it is complete (see server.c).
 */
static inline enum rootpath_result rootpath_prepare_write(int root_fd, const char *name,
                                                          size_t len, int *dir_fd,
                                                          const char **base)
{
    /* TODO(step G): rootpath_name_ok(), rootpath_parent(), then fstatat(2) the last
     * component with AT_SYMLINK_NOFOLLOW (the name itself, not what a link points to): a
     * link is ROOTPATH_DENIED, anything else there is ROOTPATH_EXISTS, and only ENOENT means
     * the name is free. Close *dir_fd on every failure. */
    (void)root_fd;
    (void)name;
    (void)len;
    (void)dir_fd;
    (void)base;
    return ROOTPATH_REFUSED;
}

#endif /* SOCKLAB_ROOTPATH_H */
