/**
 * Imported before libpg-query, which compiles its WebAssembly as it loads. V8 would compile the hot parts
 * of that large module a second time with its optimizing compiler; for the few statements an audit trail
 * parses, that costs more than it saves (measured: 4,000 GRANTs parse in 55 ms instead of 95–160 ms, and
 * 0.2 s instead of 0.45 s of CPU). The baseline compiler's code does the same work, only less optimized.
 * Only this process's WebAssembly is affected, and libpg-query is the only one.
 */
import { setFlagsFromString } from 'node:v8';

setFlagsFromString('--liftoff-only');
