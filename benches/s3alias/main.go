// Command s3alias serves gofakes3 (the S3 emulator, memory backend) with one
// addition for benches/objects.sh: COUNT objects
// ALIAS/node-0000.cov ... that all exist and read as the stored objects
// SOURCE/seed-N.cov (N = index % DISTINCT, from 1). A thousand 40 MB
// objects then go over HTTP as gofakes3 serves any object, without 40 GB
// of memory. Sources are uploaded with plain PUTs after it starts.
package main

import (
	"encoding/hex"
	"flag"
	"fmt"
	"log"
	"net/http"
	"sort"
	"strings"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
)

type aliases struct {
	gofakes3.Backend
	alias, src      string
	count, distinct int
	keys            []string
}

// source is the stored key behind an alias key, or "".
func (a *aliases) source(key string) string {
	var n int
	rest, ok := strings.CutPrefix(key, a.alias)
	if !ok {
		return ""
	}
	if _, err := fmt.Sscanf(rest, "node-%04d.cov", &n); err != nil || n >= a.count || fmt.Sprintf("node-%04d.cov", n) != rest {
		return ""
	}
	return fmt.Sprintf("%sseed-%d.cov", a.src, n%a.distinct+1)
}

func (a *aliases) GetObject(bucket, key string, rng *gofakes3.ObjectRangeRequest) (*gofakes3.Object, error) {
	if src := a.source(key); src != "" {
		o, err := a.Backend.GetObject(bucket, src, rng)
		if o != nil {
			o.Name = key
		}
		return o, err
	}
	return a.Backend.GetObject(bucket, key, rng)
}

func (a *aliases) HeadObject(bucket, key string) (*gofakes3.Object, error) {
	if src := a.source(key); src != "" {
		o, err := a.Backend.HeadObject(bucket, src)
		if o != nil {
			o.Name = key
		}
		return o, err
	}
	return a.Backend.HeadObject(bucket, key)
}

// ListBucket lists the aliases alone when the prefix is within them
// (recursive listings, paged by marker), the stored objects otherwise.
func (a *aliases) ListBucket(bucket string, prefix *gofakes3.Prefix, page gofakes3.ListBucketPage) (*gofakes3.ObjectList, error) {
	if prefix == nil || prefix.HasDelimiter || !strings.HasPrefix(a.alias, prefix.Prefix) {
		return a.Backend.ListBucket(bucket, prefix, page)
	}
	out := gofakes3.NewObjectList()
	start := 0
	if page.HasMarker {
		start = sort.SearchStrings(a.keys, page.Marker)
		if start < len(a.keys) && a.keys[start] == page.Marker {
			start++
		}
	}
	max := len(a.keys)
	if page.MaxKeys > 0 && start+int(page.MaxKeys) < max {
		max = start + int(page.MaxKeys)
		out.IsTruncated = true
	}
	for _, k := range a.keys[start:max] {
		o, err := a.Backend.HeadObject(bucket, a.source(k))
		if err != nil {
			return nil, err
		}
		out.Add(&gofakes3.Content{
			Key:          k,
			LastModified: gofakes3.NewContentTime(time.Unix(0, 0).UTC()),
			ETag:         `"` + hex.EncodeToString(o.Hash) + `"`,
			Size:         o.Size,
		})
		out.NextMarker = k
	}
	return out, nil
}

func main() {
	host := flag.String("host", "127.0.0.1:9000", "listen address")
	bucket := flag.String("bucket", "cov", "the bucket")
	alias := flag.String("alias", "logs/e2e/1/artifacts/", "prefix of the alias keys")
	source := flag.String("source", "sources/", "prefix of the stored objects seed-1.cov ...")
	count := flag.Int("count", 1000, "alias objects")
	distinct := flag.Int("distinct", 10, "stored objects they cycle through")
	flag.Parse()
	mem := s3mem.New()
	if err := mem.CreateBucket(*bucket); err != nil {
		log.Fatal(err)
	}
	a := &aliases{Backend: mem, alias: *alias, src: *source, count: *count, distinct: *distinct}
	for i := 0; i < *count; i++ {
		a.keys = append(a.keys, fmt.Sprintf("%snode-%04d.cov", *alias, i))
	}
	log.Fatal(http.ListenAndServe(*host, gofakes3.New(a).Server()))
}
