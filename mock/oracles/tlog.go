// An independent check of Veritee's log formats with Go's golang.org/x/mod
// (Debian: golang-golang-x-mod-dev): signed notes through sumdb/note, and the
// tree through sumdb/tlog, whose proofs are computed here from the tiles the
// verifier serves. Cosignatures (type 0x04, which x/mod predates) are checked
// with crypto/ed25519 from the C2SP tlog-cosignature text.
//
// Reads one JSON request on stdin, writes one JSON answer on stdout.
package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"

	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

type request struct {
	Op        string   `json:"op"`
	Note      string   `json:"note"`
	Text      string   `json:"text"`
	Vkeys     []string `json:"vkeys"`
	Skey      string   `json:"skey"`
	Base      string   `json:"base"`
	Indexes   []int64  `json:"indexes"`
	OldSize   int64    `json:"oldSize"`
	Cosigners []string `json:"cosigners"`
}

func main() {
	var req request
	if err := json.NewDecoder(os.Stdin).Decode(&req); err != nil {
		fail(err)
	}
	var out interface{}
	var err error
	switch req.Op {
	case "open-note":
		out, err = openNote(req.Note, req.Vkeys)
	case "sign-note":
		out, err = signNote(req.Text, req.Skey)
	case "tiles":
		out, err = proveFromTiles(req)
	case "cosignatures":
		out, err = checkCosignatures(req.Note, req.Cosigners)
	default:
		err = fmt.Errorf("unknown op %q", req.Op)
	}
	if err != nil {
		fail(err)
	}
	json.NewEncoder(os.Stdout).Encode(out)
}

func fail(err error) {
	json.NewEncoder(os.Stdout).Encode(map[string]string{"error": err.Error()})
	os.Exit(0)
}

func openNote(msg string, vkeys []string) (interface{}, error) {
	var verifiers []note.Verifier
	for _, vkey := range vkeys {
		v, err := note.NewVerifier(vkey)
		if err != nil {
			return nil, err
		}
		verifiers = append(verifiers, v)
	}
	n, err := note.Open([]byte(msg), note.VerifierList(verifiers...))
	if err != nil {
		return nil, err
	}
	var names []string
	for _, sig := range n.Sigs {
		names = append(names, sig.Name)
	}
	return map[string]interface{}{"text": n.Text, "signers": names}, nil
}

func signNote(text, skey string) (interface{}, error) {
	signer, err := note.NewSigner(skey)
	if err != nil {
		return nil, err
	}
	msg, err := note.Sign(&note.Note{Text: text}, signer)
	if err != nil {
		return nil, err
	}
	return map[string]string{"note": string(msg)}, nil
}

func get(url string) ([]byte, error) {
	resp, err := http.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		return nil, fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	return io.ReadAll(resp.Body)
}

// tileReader fetches C2SP tiles: Go's paths carry the height (tile/8/L/N), C2SP's do not.
type tileReader struct{ base string }

func (r tileReader) Height() int { return 8 }

func (r tileReader) ReadTiles(tiles []tlog.Tile) ([][]byte, error) {
	var out [][]byte
	for _, t := range tiles {
		path := strings.Replace(t.Path(), "tile/8/", "tile/", 1)
		data, err := get(r.base + "/" + path)
		if err != nil {
			return nil, err
		}
		out = append(out, data)
	}
	return out, nil
}

func (r tileReader) SaveTiles([]tlog.Tile, [][]byte) {}

func proveFromTiles(req request) (interface{}, error) {
	raw, err := get(req.Base + "/checkpoint")
	if err != nil {
		return nil, err
	}
	verifier, err := note.NewVerifier(req.Vkeys[0])
	if err != nil {
		return nil, err
	}
	n, err := note.Open(raw, note.VerifierList(verifier))
	if err != nil {
		return nil, err
	}
	lines := strings.Split(n.Text, "\n")
	size, err := strconv.ParseInt(lines[1], 10, 64)
	if err != nil {
		return nil, err
	}
	rootBytes, err := base64.StdEncoding.DecodeString(lines[2])
	if err != nil || len(rootBytes) != 32 {
		return nil, fmt.Errorf("bad root hash line %q", lines[2])
	}
	var root tlog.Hash
	copy(root[:], rootBytes)
	tree := tlog.Tree{N: size, Hash: root}
	// TileHashReader checks every tile it reads against the tree's root.
	hashes := tlog.TileHashReader(tree, tileReader{req.Base})
	proofs := map[string][]string{}
	for _, index := range req.Indexes {
		proof, err := tlog.ProveRecord(size, index, hashes)
		if err != nil {
			return nil, err
		}
		entry, err := entryAt(req.Base, index)
		if err != nil {
			return nil, err
		}
		if err := tlog.CheckRecord(proof, size, root, index, tlog.RecordHash(entry)); err != nil {
			return nil, fmt.Errorf("entry %d: %v", index, err)
		}
		proofs[strconv.FormatInt(index, 10)] = encode(proof)
	}
	answer := map[string]interface{}{
		"origin": lines[0], "size": size, "root": lines[2], "inclusion": proofs,
	}
	if req.OldSize > 0 {
		consistency, err := tlog.ProveTree(size, req.OldSize, hashes)
		if err != nil {
			return nil, err
		}
		answer["consistency"] = encode(consistency)
	}
	return answer, nil
}

func encode(hashes []tlog.Hash) []string {
	out := []string{}
	for _, h := range hashes {
		out = append(out, base64.StdEncoding.EncodeToString(h[:]))
	}
	return out
}

// entryAt reads entry `index` from its bundle (uint16 big-endian length prefixes).
func entryAt(base string, index int64) ([]byte, error) {
	t := tlog.TileForIndex(8, tlog.StoredHashIndex(0, index))
	t.L = -1
	path := strings.Replace(t.Path(), "tile/8/data/", "tile/entries/", 1)
	// The bundle to read is the full one when it exists, else the partial one the tree needs.
	bundle, err := get(base + "/" + strings.SplitN(path, ".p/", 2)[0])
	if err != nil {
		bundle, err = get(base + "/" + path)
		if err != nil {
			return nil, err
		}
	}
	want := int(index % 256)
	for i, at := 0, 0; at < len(bundle); i++ {
		if at+2 > len(bundle) {
			return nil, fmt.Errorf("bundle cut short")
		}
		length := int(binary.BigEndian.Uint16(bundle[at:]))
		if at+2+length > len(bundle) {
			return nil, fmt.Errorf("entry runs past its bundle")
		}
		if i == want {
			return bundle[at+2 : at+2+length], nil
		}
		at += 2 + length
	}
	return nil, fmt.Errorf("entry %d not in its bundle", index)
}

// checkCosignatures verifies each cosigner's (name+id+base64(0x04||key)) line on the note.
func checkCosignatures(msg string, cosigners []string) (interface{}, error) {
	split := strings.LastIndex(msg, "\n\n")
	if split < 0 {
		return nil, fmt.Errorf("no signature block")
	}
	text, sigs := msg[:split+1], msg[split+2:]
	times := map[string]uint64{}
	for _, cosigner := range cosigners {
		parts := strings.SplitN(cosigner, "+", 3)
		key, err := base64.StdEncoding.DecodeString(parts[2])
		if err != nil || len(key) != 33 || key[0] != 0x04 {
			return nil, fmt.Errorf("not a cosigner key: %s", cosigner)
		}
		id := sha256.Sum256(append([]byte(parts[0]+"\n"), key...))
		found := false
		for _, line := range strings.Split(strings.TrimSuffix(sigs, "\n"), "\n") {
			fields := strings.Fields(line)
			if len(fields) != 3 || fields[0] != "\u2014" || fields[1] != parts[0] {
				continue
			}
			sig, err := base64.StdEncoding.DecodeString(fields[2])
			if err != nil || len(sig) != 4+8+64 || !bytes.Equal(sig[:4], id[:4]) {
				continue
			}
			timestamp := binary.BigEndian.Uint64(sig[4:12])
			signed := fmt.Sprintf("cosignature/v1\ntime %d\n%s", timestamp, text)
			if !ed25519.Verify(ed25519.PublicKey(key[1:]), []byte(signed), sig[12:]) {
				return nil, fmt.Errorf("cosignature by %s does not verify", parts[0])
			}
			times[parts[0]] = timestamp
			found = true
		}
		if !found {
			return nil, fmt.Errorf("no cosignature by %s", parts[0])
		}
	}
	return map[string]interface{}{"timestamps": times}, nil
}
