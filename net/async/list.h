/* list: the one intrusive doubly linked list of the code base (libuv's queue.h, redis's adlist).
 *
 * A list_t is both the head of a list and the link embedded in each member; an empty head points
 * at itself, so insert and remove never test for NULL. Members are found again with container_of.
 * Nothing here allocates. Not thread-safe: a list belongs to one thread (its loop's).
 *
 *     struct fetch { list_t link; ... };
 *     list_t active;  list_init(&active);
 *     list_insert_tail(&active, &f->link);
 *     list_for_each(pos, &active) { struct fetch *x = container_of(pos, struct fetch, link); }
 *     list_remove(&f->link);
 */
#ifndef NET_ASYNC_LIST_H
#define NET_ASYNC_LIST_H

#include <stddef.h>

#ifndef container_of
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#endif

typedef struct list {
    struct list *prev, *next;
} list_t;

static inline void list_init(list_t *head) { head->prev = head->next = head; }
static inline int list_empty(const list_t *head) { return head->next == head; }
/* 1 while n is linked into some list (a removed link is re-initialised and points at itself). */
static inline int list_linked(const list_t *n) { return n->next != NULL && n->next != n; }

static inline void list_insert_tail(list_t *head, list_t *n)
{
    n->prev = head->prev;
    n->next = head;
    head->prev->next = n;
    head->prev = n;
}

static inline void list_insert_head(list_t *head, list_t *n)
{
    n->next = head->next;
    n->prev = head;
    head->next->prev = n;
    head->next = n;
}

/* Unlinks n from its list and leaves it pointing at itself (removing it again is harmless). */
static inline void list_remove(list_t *n)
{
    n->prev->next = n->next;
    n->next->prev = n->prev;
    list_init(n);
}

/* The first member's link, unlinked; NULL when the list is empty. */
static inline list_t *list_pop_head(list_t *head)
{
    list_t *n = head->next;

    if (n == head)
        return NULL;
    list_remove(n);
    return n;
}

/* Iterates over the links; the body must not remove pos (use list_for_each_safe for that). */
#define list_for_each(pos, head) for ((pos) = (head)->next; (pos) != (head); (pos) = (pos)->next)
#define list_for_each_safe(pos, tmp, head)                                                      \
    for ((pos) = (head)->next, (tmp) = (pos)->next; (pos) != (head); (pos) = (tmp), (tmp) = (pos)->next)

#endif
