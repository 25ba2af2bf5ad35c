package hub

// NewLocalBroker gives the external tests the in-process broker to wrap.
func NewLocalBroker() Broker { return newLocalBroker() }
