/** A destination's secrets are bound to it: moved to another destination, they do not decrypt. */
export const destinationSecretsContext = (destinationId: string) => `destination:${destinationId}`;
