package fastbatch

import (
	"bytes"
	"hash/maphash"
	"sync"

	"golang.org/x/sys/cpu"
)

const (
	dedupShards  = 32
	dedupBuckets = 256 // per shard
)

// dedupTable maps method+params of read calls in flight to their leader
// call: a fixed chained hash table (no Go map, so joining and leaving cost
// a few pointer writes and never allocate), the chain compared by full hash
// and then byte for byte. Sharded so submitters on different cores rarely
// share a lock.
type dedupTable struct {
	seed   maphash.Seed
	shards [dedupShards]dedupShard
}

type dedupShard struct {
	mu      sync.Mutex
	buckets [dedupBuckets]*call // chains of leaders linked by chainNext
	size    int
	_       cpu.CacheLinePad
}

func newDedupTable() *dedupTable {
	return &dedupTable{seed: maphash.MakeSeed()}
}

func (t *dedupTable) hash(method string, params []byte) uint64 {
	return maphash.Bytes(t.seed, params) ^ maphash.String(t.seed, method)*0x9e3779b97f4a7c15
}

func (t *dedupTable) shard(h uint64) *dedupShard { return &t.shards[h%dedupShards] }

func bucketOf(h uint64) uint64 { return (h / dedupShards) % dedupBuckets }

// joinOrLead makes c a follower of an identical call in flight and returns
// true, or registers c as the leader for its key and returns false. A call
// of a higher priority band than the leader's does not follow it (it would
// wait at the leader's lower priority): it returns false unregistered
// (c.deduped stays false) and goes on the wire on its own.
func (t *dedupTable) joinOrLead(c *call) bool {
	c.hash = t.hash(c.method, c.params)
	s := t.shard(c.hash)
	s.mu.Lock()
	head := s.buckets[bucketOf(c.hash)]
	for l := head; l != nil; l = l.chainNext {
		if l.hash == c.hash && l.method == c.method && bytes.Equal(l.params, c.params) {
			if l.band < c.band {
				s.mu.Unlock()
				return false
			}
			c.nextFollower = l.followers
			l.followers = c
			s.mu.Unlock()
			return true
		}
	}
	c.chainNext = head
	c.deduped = true
	s.buckets[bucketOf(c.hash)] = c
	s.size++
	s.mu.Unlock()
	return false
}

// remove takes leader out of the table and returns its followers, so that
// new identical calls start a fresh wire call. Must be called exactly once
// per registered leader, before it is resolved.
func (t *dedupTable) remove(leader *call) *call {
	s := t.shard(leader.hash)
	s.mu.Lock()
	t.unlink(s, leader)
	f := leader.followers
	leader.followers = nil
	s.mu.Unlock()
	leader.deduped = false
	return f
}

// dropIfNoFollowerWaits removes leader, whose own caller is gone, unless a
// follower still waits; it returns the followers (none waiting) and true
// when it removed it. Deciding under the shard lock means no new follower
// can join a leader that is being dropped.
func (t *dedupTable) dropIfNoFollowerWaits(leader *call) (*call, bool) {
	s := t.shard(leader.hash)
	s.mu.Lock()
	for f := leader.followers; f != nil; f = f.nextFollower {
		if f.wanted() && f.ctx.Err() == nil {
			s.mu.Unlock()
			return nil, false
		}
	}
	t.unlink(s, leader)
	f := leader.followers
	leader.followers = nil
	s.mu.Unlock()
	leader.deduped = false
	return f, true
}

func (t *dedupTable) unlink(s *dedupShard, leader *call) {
	b := &s.buckets[bucketOf(leader.hash)]
	if *b == leader {
		*b = leader.chainNext
	} else {
		for l := *b; l != nil; l = l.chainNext {
			if l.chainNext == leader {
				l.chainNext = leader.chainNext
				break
			}
		}
	}
	leader.chainNext = nil
	s.size--
}

// size returns the number of leaders in flight.
func (t *dedupTable) len() int {
	n := 0
	for i := range t.shards {
		s := &t.shards[i]
		s.mu.Lock()
		n += s.size
		s.mu.Unlock()
	}
	return n
}

// hasFollowers reports whether leader currently has followers.
func (t *dedupTable) hasFollowers(leader *call) bool {
	s := t.shard(leader.hash)
	s.mu.Lock()
	has := leader.followers != nil
	s.mu.Unlock()
	return has
}
