// Package fastpool will hold a pooled, health-checked, retrying HTTP client
// over fasthttp HostClients.
//
// Not implemented yet (issue 5).
package fastpool
