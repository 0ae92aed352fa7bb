package devnet

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strconv"
	"strings"
)

// The renderers below give answers with the shapes of the Accumulate node's
// API v3 (pkg/api/v3) and v2 (internal/api/v2) and sizes close to the ones
// in accumulate-api.md. Every number and hash comes from a det keyed by the
// identifying param, so equal params give equal bytes.

const (
	networkName = "DevNet"
	nodeVersion = "v1.4.2"
	nodeCommit  = "3bd1a8d1f0c4b0e27c4f8a1f9e0d6a7c5b2e9f10"
)

var partitions = []string{"Directory", "BVN0", "BVN1", "BVN2"}

func lower(s string) string { return strings.ToLower(s) }

// paramsHash is the hash that stands in for a transaction hash: sha256 of
// the canonical params (sorted keys, compact), so equal params give equal
// transaction ids whatever their whitespace or key order.
func paramsHash(method string, p params) string {
	h := sha256.New()
	h.Write([]byte(method))
	h.Write([]byte{0})
	h.Write(p.canonical())
	return hex.EncodeToString(h.Sum(nil))
}

// ---- API v3 ----

func v3NodeInfo(p params) *answer {
	peer, _, ok := p.str("peerID")
	if !ok {
		return invalidParams("peerID must be a string")
	}
	d := newDet("node-info", peer)
	if peer == "" {
		peer = "12D3KooW" + d.hexN(22)
	}
	var b []byte
	b = fmt.Appendf(b, `{"peerID":%s,"network":%s,"services":[`, q(peer), q(networkName))
	b = append(b, `{"type":"node"},{"type":"network","argument":"Directory"},{"type":"metrics","argument":"Directory"},{"type":"consensus","argument":"Directory"},{"type":"query","argument":"Directory"},{"type":"event","argument":"Directory"},{"type":"submit","argument":"Directory"},{"type":"validate","argument":"Directory"}`...)
	b = fmt.Appendf(b, `],"version":%s,"commit":%s}`, q(nodeVersion), q(nodeCommit))
	return newResult(b)
}

func v3FindService(p params) *answer {
	network, _, ok := p.str("network")
	if !ok {
		return invalidParams("network must be a string")
	}
	svc, _ := p.m["service"].(map[string]any)
	typ, _ := svc["type"].(string)
	arg, _ := svc["argument"].(string)
	if typ == "" {
		return invalidParams("missing service.type")
	}
	d := newDet("find-service", network, typ, arg)
	var b []byte
	b = append(b, '[')
	for i := range 3 {
		if i > 0 {
			b = append(b, ',')
		}
		peer := "12D3KooW" + d.hexN(22)
		b = fmt.Appendf(b, `{"peerID":%s,"status":"good","addresses":[%s,%s]}`, q(peer),
			q(fmt.Sprintf("/ip4/127.0.1.%d/tcp/16593/p2p/%s", i+1, peer)),
			q(fmt.Sprintf("/dns/%s.%s.devnet/tcp/16593/p2p/%s", lower(typ), lower(arg), peer)))
	}
	b = append(b, ']')
	return newResult(b)
}

func v3ConsensusStatus(p params) *answer {
	part, _, ok := p.str("partition")
	if !ok {
		return invalidParams("partition must be a string")
	}
	if part == "" {
		part = "Directory"
	}
	d := newDet("consensus-status", part)
	ptype := "blockValidator"
	if strings.EqualFold(part, "Directory") {
		ptype = "directory"
	}
	var b []byte
	b = fmt.Appendf(b, `{"ok":true,"lastBlock":{"height":%d,"time":%s,"chainRoot":%s,"stateRoot":%s,"directoryAnchorHeight":%d},"version":%s,"commit":%s,"nodeKeyHash":%s,"validatorKeyHash":%s,"partitionID":%s,"partitionType":%s,"peers":[`,
		d.intn(100000, 2000000), q(d.time()), q(d.hash()), q(d.hash()), d.intn(100000, 2000000),
		q(nodeVersion), q(nodeCommit), q(d.hash()), q(d.hash()), q(part), q(ptype))
	for i := range 3 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"nodeID":%s,"host":"127.0.1.%d","port":16591}`, q(d.hexN(20)), i+2)
	}
	b = append(b, "]}"...)
	return newResult(b)
}

func v3NetworkStatus(p params) *answer {
	part, _, ok := p.str("partition")
	if !ok {
		return invalidParams("partition must be a string")
	}
	d := newDet("network-status", part)
	var b []byte
	b = fmt.Appendf(b, `{"oracle":{"price":%d},"globals":{"operatorAcceptThreshold":{"numerator":2,"denominator":3},"validatorAcceptThreshold":{"numerator":2,"denominator":3},"majorBlockSchedule":"0 */12 * * *","anchorEmptyBlocks":false,`, d.intn(500000, 5000000))
	b = append(b, `"feeSchedule":{"createIdentitySliding":[4800000,2400000,1200000,600000,300000,150000,75000,37500,18750,9375,4687,2343],"createSubIdentity":10000,"bareIdentityDiscount":2500},`...)
	b = append(b, `"limits":{"dataEntryParts":100,"accountAuthorities":20,"bookPages":20,"pageEntries":256,"identityAccounts":1000,"pendingMajorBlocks":100,"eventsPerBlock":100}},`...)
	b = fmt.Appendf(b, `"network":{"networkName":%s,"version":%d,"partitions":[`, q(networkName), d.intn(10, 200))
	for i, name := range partitions {
		if i > 0 {
			b = append(b, ',')
		}
		typ := "blockValidator"
		if i == 0 {
			typ = "directory"
		}
		b = fmt.Appendf(b, `{"id":%s,"type":%s}`, q(name), q(typ))
	}
	b = append(b, `],"validators":[`...)
	for i := range 12 {
		if i > 0 {
			b = append(b, ',')
		}
		bvn := partitions[1+i%3]
		b = fmt.Appendf(b, `{"publicKey":%s,"publicKeyHash":%s,"operator":%s,"partitions":[{"id":"Directory","active":true},{"id":%s,"active":%t}]}`,
			q(d.hash()), q(d.hash()), q(fmt.Sprintf("acc://operator-%d.acme/book", i+1)), q(bvn), i%5 != 4)
	}
	b = append(b, `]},"routing":{"overrides":[{"account":"acc://dn.acme","partition":"Directory"},{"account":"acc://ACME","partition":"Directory"}],"routes":[`...)
	for i := range 48 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"length":5,"value":%d,"partition":%s}`, i, q(partitions[1+i%3]))
	}
	b = fmt.Appendf(b, `]},"executorVersion":"v2Vandenberg","directoryHeight":%d,"majorBlockHeight":%d,"bvnExecutorVersions":[`, d.intn(100000, 2000000), d.intn(100, 1000))
	for i, name := range partitions[1:] {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"partition":%s,"version":"v2Vandenberg"}`, q(name))
	}
	b = fmt.Appendf(b, `],"partition":%s}`, q(part))
	return newResult(b)
}

func v3ListSnapshots(p params) *answer {
	node, _, ok := p.str("nodeID")
	if !ok {
		return invalidParams("nodeID must be a string")
	}
	d := newDet("list-snapshots", node)
	var b []byte
	b = append(b, `{"recordType":"range","start":0,"total":3,"records":[`...)
	for i := range 3 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"header":{"version":2,"height":%d,"rootHash":%s,"timestamp":%s},"consensusInfo":{"chainID":"DevNet.Directory","height":%d,"appHash":%s}}`,
			d.intn(100000, 2000000), q(d.hash()), q(d.time()), d.intn(100000, 2000000), q(d.hash()))
	}
	b = append(b, "]}"...)
	return newResult(b)
}

func v3Metrics(p params) *answer {
	part, _, ok := p.str("partition")
	if !ok {
		return invalidParams("partition must be a string")
	}
	span, ok := p.uint("span", 0)
	if !ok {
		return invalidParams("span must be a non-negative integer")
	}
	d := newDet("metrics", part, fmt.Sprint(span))
	return newResult(fmt.Appendf(nil, `{"tps":%d.%02d,"partition":%s}`, d.intn(10, 2000), d.intn(0, 100), q(part)))
}

func v3Query(p params) *answer {
	if p.m == nil {
		return invalidParams("query takes an object with a scope")
	}
	scope, err := requireURL(p, "scope")
	if err != nil {
		return err
	}
	qt := "default"
	if inner, ok := p.m["query"].(map[string]any); ok {
		if s, ok := inner["queryType"].(string); ok && s != "" {
			qt = s
		}
	} else if p.m["query"] != nil {
		return invalidParams("query must be an object")
	}
	if strings.Contains(scope, "@") {
		if qt != "default" {
			return invalidParams("queryType " + qt + " does not apply to a message")
		}
		return newResult(v3MessageRecord(scope))
	}
	d := newDet("query", lower(scope), qt)
	switch qt {
	case "default":
		return newResult(v3AccountRecord(scope, d))
	case "chain", "data", "directory", "pending", "block", "anchorSearch",
		"publicKeySearch", "publicKeyHashSearch", "delegateSearch", "messageHashSearch":
		var b []byte
		b = fmt.Appendf(b, `{"recordType":"range","start":0,"total":%d,"records":[`, 4)
		for i := range 4 {
			if i > 0 {
				b = append(b, ',')
			}
			switch qt {
			case "directory", "delegateSearch":
				b = fmt.Appendf(b, `{"recordType":"url","value":%s}`, q(fmt.Sprintf("%s/sub-%d", scope, i)))
			case "chain", "pending", "messageHashSearch", "anchorSearch":
				b = fmt.Appendf(b, `{"recordType":"chainEntry","account":%s,"name":"main","type":"transaction","index":%d,"entry":%s}`, q(scope), d.intn(0, 100000), q(d.hash()))
			default:
				b = fmt.Appendf(b, `{"recordType":"%s","account":%s,"index":%d,"value":%s,"lastBlockTime":%s}`, qt, q(scope), d.intn(0, 100000), q(d.hash()), q(d.time()))
			}
		}
		b = append(b, "]}"...)
		return newResult(b)
	}
	return invalidParams("unknown queryType " + qt)
}

// v3AccountRecord renders an account record of 0.4–0.9 KB; the account type
// follows the URL's shape. It is the hot path of a cache miss (every new
// account a client queries), so it appends instead of formatting.
func v3AccountRecord(scope string, d *det) []byte {
	path := ""
	if i := strings.IndexByte(scope[len("acc://"):], '/'); i >= 0 {
		path = lower(scope[len("acc://")+i+1:])
	}
	book := scope[:len(scope)-len(path)] + "book"
	if path == "" {
		book = scope + "/book"
	}
	b := make([]byte, 0, 1024)
	b = append(b, `{"recordType":"account","account":`...)
	appendAuth := func(b []byte) []byte {
		b = append(b, `,"authorities":[{"url":`...)
		b = appendString(b, book)
		return append(b, `}]`...)
	}
	switch {
	case strings.EqualFold(scope, "acc://ACME"):
		b = append(b, `{"type":"tokenIssuer","url":`...)
		b = appendString(b, scope)
		b = append(b, `,"authorities":[{"url":"acc://dn.acme/operators"}],"symbol":"ACME","precision":8,"issued":"`...)
		b = strconv.AppendUint(b, d.intn(1e15, 5e16), 10)
		b = append(b, `","supplyLimit":"50000000000000000"}`...)
	case path == "":
		b = append(b, `{"type":"identity","url":`...)
		b = appendString(b, scope)
		b = appendAuth(b)
		b = append(b, '}')
	case strings.HasPrefix(path, "book/"):
		b = append(b, `{"type":"keyPage","url":`...)
		b = appendString(b, scope)
		b = append(b, `,"creditBalance":`...)
		b = strconv.AppendUint(b, d.intn(0, 1e9), 10)
		b = append(b, `,"acceptThreshold":1,"version":`...)
		b = strconv.AppendUint(b, d.intn(1, 20), 10)
		b = append(b, `,"keys":[{"publicKeyHash":`...)
		b = d.appendHashQ(b)
		b = append(b, `,"lastUsedOn":`...)
		b = strconv.AppendUint(b, d.intn(1e15, 2e15), 10)
		b = append(b, `}]}`...)
	case path == "book":
		b = append(b, `{"type":"keyBook","url":`...)
		b = appendString(b, scope)
		b = appendAuth(b)
		b = append(b, `,"pageCount":`...)
		b = strconv.AppendUint(b, d.intn(1, 4), 10)
		b = append(b, '}')
	case strings.Contains(path, "data"):
		b = append(b, `{"type":"dataAccount","url":`...)
		b = appendString(b, scope)
		b = appendAuth(b)
		b = append(b, '}')
	default:
		b = append(b, `{"type":"tokenAccount","url":`...)
		b = appendString(b, scope)
		b = appendAuth(b)
		b = append(b, `,"tokenUrl":"acc://ACME","balance":"`...)
		b = strconv.AppendUint(b, d.intn(0, 1e14), 10)
		b = append(b, `"}`...)
	}
	b = append(b, `,"directory":{"recordType":"range","start":0,"total":0},"pending":{"recordType":"range","start":0,"total":0},"receipt":{"start":`...)
	b = d.appendHashQ(b)
	b = append(b, `,"startIndex":`...)
	b = strconv.AppendUint(b, d.intn(0, 1000), 10)
	b = append(b, `,"end":`...)
	b = d.appendHashQ(b)
	b = append(b, `,"endIndex":`...)
	b = strconv.AppendUint(b, d.intn(1000, 2000), 10)
	b = append(b, `,"anchor":`...)
	b = d.appendHashQ(b)
	b = append(b, `,"entries":[{"hash":`...)
	b = d.appendHashQ(b)
	b = append(b, `},{"right":true,"hash":`...)
	b = d.appendHashQ(b)
	b = append(b, `},{"hash":`...)
	b = d.appendHashQ(b)
	b = append(b, `}],"localBlock":`...)
	b = strconv.AppendUint(b, d.intn(100000, 2000000), 10)
	b = append(b, `,"localBlockTime":`...)
	b = d.appendTimeQ(b)
	b = append(b, `},"lastBlockTime":`...)
	b = d.appendTimeQ(b)
	return append(b, '}')
}

// v3MessageRecord renders a transaction message record of about 4.3 KB.
func v3MessageRecord(id string) []byte {
	d := newDet("message", lower(id))
	at := strings.IndexByte(id, '@')
	principal := "acc://" + id[at+1:]
	hash := id[len("acc://"):at]
	var b []byte
	b = fmt.Appendf(b, `{"recordType":"message","id":%s,"message":{"type":"transaction","transaction":{"header":{"principal":%s,"initiator":%s,"memo":"devnet transfer"},"body":{"type":"sendTokens","hash":%s,"to":[`,
		q(id), q(principal), q(d.hash()), q(hash))
	for i := range 4 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"url":%s,"amount":"%d"}`, q(fmt.Sprintf("acc://%s/ACME", d.hexN(24))), d.intn(1, 1e12))
	}
	b = fmt.Appendf(b, `]}}},"status":"delivered","statusNo":201,"result":{"type":"unknown"},"received":%d,"produced":{"recordType":"range","start":0,"total":4,"records":[`, d.intn(100000, 2000000))
	for i := range 4 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"recordType":"txID","value":%s}`, q("acc://"+d.hash()+"@"+d.hexN(24)+"/ACME"))
	}
	b = append(b, `]},"cause":{"recordType":"range","start":0,"total":0},"signatures":{"recordType":"range","start":0,"total":2,"records":[`...)
	for i := range 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"recordType":"signatureSet","account":{"type":"keyPage","url":%s,"creditBalance":%d,"acceptThreshold":1,"version":1,"keys":[{"publicKeyHash":%s}]},"signatures":{"recordType":"range","start":0,"total":2,"records":[`,
			q(principal+"/book/1"), d.intn(0, 1e9), q(d.hash()))
		for j := range 2 {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"recordType":"message","id":%s,"message":{"type":"signature","signature":{"type":"ed25519","publicKey":%s,"signature":%s,"signer":%s,"signerVersion":1,"timestamp":%d,"transactionHash":%s},"txID":%s},"status":"delivered","statusNo":201,"received":%d}`,
				q("acc://"+d.hash()+"@"+principal[len("acc://"):]+"/book/1"), q(d.hash()), q(d.hexN(64)), q(principal+"/book/1"), d.intn(1.7e15, 1.8e15), q(hash), q(id), d.intn(100000, 2000000))
		}
		b = append(b, "]}}"...)
	}
	b = append(b, "]}}"...)
	return b
}

// v3Submit renders the submission statuses of submit and validate.
func v3Submit(method string) methodFunc {
	return func(p params) *answer {
		env, ok := p.m["envelope"].(map[string]any)
		if !ok {
			return invalidParams("missing envelope")
		}
		principal := "acc://devnet.acme"
		if txs, ok := env["transaction"].([]any); ok && len(txs) > 0 {
			if tx, ok := txs[0].(map[string]any); ok {
				if h, ok := tx["header"].(map[string]any); ok {
					if s, ok := h["principal"].(string); ok && accountOf(s) != accountBad {
						principal = s
					}
				}
			}
		}
		hash := paramsHash(method, p)
		d := newDet(method, hash)
		txid := "acc://" + hash + "@" + principal[len("acc://"):]
		sigid := "acc://" + d.hash() + "@" + principal[len("acc://"):] + "/book/1"
		msg := ""
		if method == "validate" {
			msg = "validated"
		}
		var b []byte
		b = fmt.Appendf(b, `[{"status":{"txID":%s,"code":"ok","codeNum":200,"received":%d},"success":true,"message":%s},{"status":{"txID":%s,"code":"ok","codeNum":200,"received":%d},"success":true,"message":%s}]`,
			q(txid), d.intn(100000, 2000000), q(msg), q(sigid), d.intn(100000, 2000000), q(msg))
		return newResult(b)
	}
}

func v3Faucet(p params) *answer {
	acct, err := requireURL(p, "account")
	if err != nil {
		return err
	}
	hash := paramsHash("faucet", p)
	txid := "acc://" + hash + "@" + acct[len("acc://"):]
	return newResult(fmt.Appendf(nil, `{"status":{"txID":%s,"code":"ok","codeNum":200},"success":true,"message":"faucet sent 10 ACME to %s"}`, q(txid), strings.Trim(q(acct), `"`)))
}

// ---- API v2 ----

func v2Status(p params) *answer {
	d := newDet("status")
	return newResult(fmt.Appendf(nil, `{"ok":true,"bvnHeight":%d,"dnHeight":%d,"lastDirectoryAnchorHeight":%d,"bvnRootHash":%s,"dnRootHash":%s,"bvnBptHash":%s,"dnBptHash":%s}`,
		d.intn(100000, 2000000), d.intn(100000, 2000000), d.intn(100000, 2000000), q(d.hash()), q(d.hash()), q(d.hash()), q(d.hash())))
}

func v2Version(p params) *answer {
	return newResult(fmt.Appendf(nil, `{"type":"version","data":{"version":%s,"commit":%s,"versionIsKnown":true,"isTestNet":true}}`, q(nodeVersion), q(nodeCommit)))
}

func v2Describe(p params) *answer {
	d := newDet("describe")
	var b []byte
	b = fmt.Appendf(b, `{"partitionId":"Directory","networkType":"directory","network":{"id":%s,"partitions":[`, q(networkName))
	for i, name := range partitions {
		if i > 0 {
			b = append(b, ',')
		}
		typ := "blockValidator"
		if i == 0 {
			typ = "directory"
		}
		b = fmt.Appendf(b, `{"id":%s,"type":%s,"basePort":%d,"nodes":[`, q(name), q(typ), 26656+i*100)
		for j := range 3 {
			if j > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"address":%s,"type":"validator","publicKey":%s}`, q(fmt.Sprintf("http://127.0.1.%d:%d", j+1, 26656+i*100)), q(d.hash()))
		}
		b = append(b, "]}"...)
	}
	b = fmt.Appendf(b, `]},"networkAnchor":%s,"values":{"oracle":{"price":%d},"globals":{"operatorAcceptThreshold":{"numerator":2,"denominator":3},"validatorAcceptThreshold":{"numerator":2,"denominator":3},"majorBlockSchedule":"0 */12 * * *","feeSchedule":{"createIdentitySliding":[4800000,2400000,1200000,600000,300000,150000,75000,37500,18750,9375,4687,2343],"createSubIdentity":10000}},"network":{"networkName":%s,"version":%d,"validators":[`,
		q(d.hash()), d.intn(500000, 5000000), q(networkName), d.intn(10, 200))
	for i := range 12 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"publicKey":%s,"publicKeyHash":%s,"operator":%s,"partitions":[{"id":"Directory","active":true},{"id":%s,"active":true}]}`,
			q(d.hash()), q(d.hash()), q(fmt.Sprintf("acc://operator-%d.acme/book", i+1)), q(partitions[1+i%3]))
	}
	b = append(b, `]},"routing":{"routes":[`...)
	for i := range 24 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"length":5,"value":%d,"partition":%s}`, i, q(partitions[1+i%3]))
	}
	b = append(b, `]}},"error":null}`...)
	return newResult(b)
}

func v2Metrics(p params) *answer {
	metric, _, ok := p.str("metric")
	if !ok {
		return invalidParams("metric must be a string")
	}
	d := newDet("v2-metrics", metric)
	return newResult(fmt.Appendf(nil, `{"type":"metrics","data":{"value":%d.%02d,"metric":%s}}`, d.intn(10, 2000), d.intn(0, 100), q(metric)))
}

// v2TxResponse renders the answer of the execute family and faucet.
func v2TxResponse(hash, principal string, d *det) []byte {
	txid := "acc://" + hash + "@" + principal[len("acc://"):]
	return fmt.Appendf(nil, `{"txid":%s,"signatureHashes":[%s],"transactionHash":%s,"simpleHash":%s,"hash":%s,"code":0,"message":"","delivered":false,"result":{"type":"unknown"}}`,
		q(txid), q(d.hash()), q(hash), q(d.hash()), q(hash))
}

func v2Faucet(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	hash := paramsHash("v2-faucet", p)
	return newResult(v2TxResponse(hash, u, newDet("v2-faucet", hash)))
}

func v2Execute(method string) methodFunc {
	return func(p params) *answer {
		if p.m == nil {
			return invalidParams(method + " takes an object")
		}
		principal := "acc://devnet.acme"
		for _, k := range []string{"origin", "principal"} {
			if s, ok := p.m[k].(string); ok {
				switch accountOf(s) {
				case accountBad:
					return invalidParams("invalid " + k)
				case accountMissing:
					return notFound(s)
				}
				principal = s
			}
		}
		if p.m["envelope"] == nil && p.m["payload"] == nil && p.m["origin"] == nil {
			return invalidParams("missing envelope or origin and payload")
		}
		hash := paramsHash("v2-"+method, p)
		return newResult(v2TxResponse(hash, principal, newDet(method, hash)))
	}
}

// v2ChainState renders the mainChain/merkleState/chains members of a v2
// query answer.
func v2ChainState(b []byte, d *det) []byte {
	height := d.intn(1, 100000)
	b = fmt.Appendf(b, `"mainChain":{"height":%d,"count":%d,"roots":[`, height, height)
	for i := range 8 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, q(d.hash())...)
	}
	b = fmt.Appendf(b, `]},"merkleState":{"height":%d,"count":%d,"roots":[`, height, height)
	for i := range 8 {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, q(d.hash())...)
	}
	b = append(b, `]},"chains":[`...)
	for i, name := range []string{"main", "scratch", "signature"} {
		if i > 0 {
			b = append(b, ',')
		}
		h := d.intn(1, 100000)
		b = fmt.Appendf(b, `{"name":%s,"type":"transaction","height":%d,"count":%d,"roots":[%s,%s,null,%s]}`, q(name), h, h, q(d.hash()), q(d.hash()), q(d.hash()))
	}
	return append(b, ']')
}

func v2Query(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	if strings.Contains(u, "@") {
		return newResult(v2Transaction(u, newDet("v2-tx", lower(u))))
	}
	d := newDet("v2-query", lower(u))
	rec := v3AccountRecord(u, d)
	// The v2 answer carries the account under data; reuse the v3 account
	// object for it.
	start := len(`{"recordType":"account","account":`)
	depth, end := 0, start
	for i := start; i < len(rec); i++ {
		if rec[i] == '{' {
			depth++
		} else if rec[i] == '}' {
			depth--
			if depth == 0 {
				end = i + 1
				break
			}
		}
	}
	acct := rec[start:end]
	typ := "account"
	if i := strings.Index(string(acct), `"type":"`); i >= 0 {
		typ = string(acct[i+8 : i+8+strings.IndexByte(string(acct[i+8:]), '"')])
	}
	var b []byte
	b = fmt.Appendf(b, `{"type":%s,`, q(typ))
	b = v2ChainState(b, d)
	b = fmt.Appendf(b, `,"data":%s}`, acct)
	return newResult(b)
}

func v2Range(p params) (start, count uint64, a *answer) {
	start, ok1 := p.uint("start", 0)
	count, ok2 := p.uint("count", 10)
	if !ok1 || !ok2 {
		return 0, 0, invalidParams("start and count must be non-negative integers")
	}
	return start, min(count, 100), nil
}

func v2QueryDirectory(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	start, count, err := v2Range(p)
	if err != nil {
		return err
	}
	var b []byte
	b = append(b, `{"type":"directory","items":[`...)
	for i := range count {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, q(fmt.Sprintf("%s/account-%d", u, start+i))...)
	}
	b = fmt.Appendf(b, `],"start":%d,"count":%d,"total":%d}`, start, count, start+count+7)
	return newResult(b)
}

// v2Transaction renders a v2 transaction answer of about 3–4 KB.
func v2Transaction(txid string, d *det) []byte {
	principal := txid
	hash := d.hash()
	if at := strings.IndexByte(txid, '@'); at >= 0 {
		principal = "acc://" + txid[at+1:]
		hash = txid[len("acc://"):at]
	}
	var b []byte
	b = fmt.Appendf(b, `{"type":"sendTokens","txid":%s,`, q(txid))
	b = v2ChainState(b, d)
	b = fmt.Appendf(b, `,"data":{"type":"sendTokens","hash":%s,"to":[{"url":%s,"amount":"%d"},{"url":%s,"amount":"%d"}]},"origin":%s,"transactionHash":%s,"transaction":{"header":{"principal":%s,"initiator":%s},"body":{"type":"sendTokens"}},"signatures":[`,
		q(hash), q("acc://"+d.hexN(24)+"/ACME"), d.intn(1, 1e12), q("acc://"+d.hexN(24)+"/ACME"), d.intn(1, 1e12), q(principal), q(hash), q(principal), q(d.hash()))
	for i := range 2 {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"type":"ed25519","publicKey":%s,"signature":%s,"signer":%s,"signerVersion":1,"timestamp":%d,"transactionHash":%s}`, q(d.hash()), q(d.hexN(64)), q(principal+"/book/1"), d.intn(1.7e15, 1.8e15), q(hash))
	}
	b = fmt.Appendf(b, `],"status":{"txID":%s,"code":"delivered","delivered":true,"codeNum":201,"received":%d},"syntheticTxids":[%s,%s]}`,
		q(txid), d.intn(100000, 2000000), q("acc://"+d.hash()+"@"+d.hexN(24)+"/ACME"), q("acc://"+d.hash()+"@"+d.hexN(24)+"/ACME"))
	return b
}

func v2QueryTx(p params) *answer {
	txid, present, ok := p.str("txid")
	if !present || !ok || txid == "" {
		return invalidParams("missing or non-string txid")
	}
	if strings.Contains(strings.ToLower(txid), "missing") {
		return notFound(txid)
	}
	if strings.HasPrefix(strings.ToLower(txid), "acc://") {
		switch accountOf(txid) {
		case accountBad:
			return invalidParams("invalid txid")
		case accountMissing:
			return notFound(txid)
		}
	} else if len(txid) != 64 || !isHexString(txid) {
		return invalidParams("txid must be 64 hex digits or acc://<hash>@<principal>")
	}
	return newResult(v2Transaction(txid, newDet("v2-tx", lower(txid))))
}

func v2QueryTxHistory(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	start, count, err := v2Range(p)
	if err != nil {
		return err
	}
	d := newDet("v2-history", lower(u), fmt.Sprint(start, count))
	var b []byte
	b = append(b, `{"type":"txHistory","items":[`...)
	for i := range count {
		if i > 0 {
			b = append(b, ',')
		}
		h := d.hash()
		b = fmt.Appendf(b, `{"type":"sendTokens","txid":%s,"transactionHash":%s,"origin":%s,"status":{"code":"delivered","delivered":true}}`, q("acc://"+h+"@"+u[len("acc://"):]), q(h), q(u))
	}
	b = fmt.Appendf(b, `],"start":%d,"count":%d,"total":%d}`, start, count, start+count+3)
	return newResult(b)
}

func v2QueryData(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	eh, _, ok := p.str("entryHash")
	if !ok {
		return invalidParams("entryHash must be a string")
	}
	d := newDet("v2-data", lower(u), eh)
	if eh == "" {
		eh = d.hash()
	}
	return newResult(fmt.Appendf(nil, `{"type":"dataEntry","data":{"entryHash":%s,"entry":{"type":"doubleHash","data":[%s,%s]},"txId":%s,"causeTxId":%s}}`,
		q(eh), q(d.hexN(48)), q(d.hexN(96)), q("acc://"+d.hash()+"@"+u[len("acc://"):]), q("acc://"+d.hash()+"@"+u[len("acc://"):])))
}

func v2QueryDataSet(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	start, count, err := v2Range(p)
	if err != nil {
		return err
	}
	d := newDet("v2-dataset", lower(u), fmt.Sprint(start, count))
	var b []byte
	b = append(b, `{"type":"dataSet","items":[`...)
	for i := range count {
		if i > 0 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"entryHash":%s,"entry":{"type":"doubleHash","data":[%s]},"txId":%s}`, q(d.hash()), q(d.hexN(48)), q("acc://"+d.hash()+"@"+u[len("acc://"):]))
	}
	b = fmt.Appendf(b, `],"start":%d,"count":%d,"total":%d}`, start, count, start+count+5)
	return newResult(b)
}

func v2QueryKeyIndex(p params) *answer {
	u, err := requireURL(p, "url")
	if err != nil {
		return err
	}
	key, present, ok := p.str("key")
	if !present || !ok {
		return invalidParams("missing or non-string key")
	}
	d := newDet("v2-keyindex", lower(u), key)
	return newResult(fmt.Appendf(nil, `{"type":"key-page-index","data":{"authority":%s,"keyPage":%s,"index":%d,"key":%s}}`,
		q(u+"/book"), q(u+"/book/1"), d.intn(0, 4), q(key)))
}

func v2QueryBlocks(kind string) methodFunc {
	return func(p params) *answer {
		u, err := requireURL(p, "url")
		if err != nil {
			return err
		}
		start, count, err := v2Range(p)
		if err != nil {
			return err
		}
		d := newDet("v2-"+kind, lower(u), fmt.Sprint(start, count))
		var b []byte
		b = fmt.Appendf(b, `{"type":"%s","items":[`, kind)
		for i := range count {
			if i > 0 {
				b = append(b, ',')
			}
			b = fmt.Appendf(b, `{"blockIndex":%d,"blockTime":%s,"txCount":%d}`, start+i+1, q(d.time()), d.intn(0, 50))
		}
		b = fmt.Appendf(b, `],"start":%d,"count":%d,"total":%d,"url":%s}`, start, count, start+count+100, q(u))
		return newResult(b)
	}
}

func v2QuerySynth(p params) *answer {
	src, err := requireURL(p, "source")
	if err != nil {
		return err
	}
	dst, err := requireURL(p, "destination")
	if err != nil {
		return err
	}
	seq, ok := p.uint("sequenceNumber", 0)
	if !ok {
		return invalidParams("sequenceNumber must be a non-negative integer")
	}
	d := newDet("v2-synth", lower(src), lower(dst), fmt.Sprint(seq))
	return newResult(v2Transaction("acc://"+d.hash()+"@"+dst[len("acc://"):], d))
}
