/** What the node sends back to the client: the pipeline's last step, and what idempotency keys remember. */
export interface Answer {
  status: number
  headers: Record<string, string | string[]>
  body: Buffer
}
