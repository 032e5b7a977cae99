export { classifyAddress, embeddedIPv4, type AddressClass } from './address.js';
export { checkOutboundHost, checkOutboundUrl, systemLookup, type LookupAll, type OutboundCheck } from './check.js';
export { createGuardedDispatcher, OutboundRefusedError } from './dispatcher.js';
export { parseOutboundPolicy, splitAllowedHosts, type OutboundPolicy, type OutboundPolicyInput } from './policy.js';
