/**
 * Types for the npm package parse-prometheus-text-format, which ships none. Only what the tests
 * read: the package turns Prometheus text into families shaped like prom2json's output, with every
 * number kept as the string it was written as.
 */
declare module 'parse-prometheus-text-format' {
  export interface ParsedSample {
    labels?: Record<string, string>
    value?: string
    timestamp_ms?: string
    /** Histograms and summaries: folded per family, see the package README. */
    buckets?: Record<string, string>
    quantiles?: Record<string, string>
    count?: string
    sum?: string
  }

  export interface ParsedFamily {
    name: string
    help: string
    type: 'COUNTER' | 'GAUGE' | 'HISTOGRAM' | 'SUMMARY' | 'UNTYPED'
    metrics: ParsedSample[]
  }

  /** Throws (InvalidLineError) on a line it cannot read. */
  export default function parsePrometheusTextFormat (text: string): ParsedFamily[]
}
