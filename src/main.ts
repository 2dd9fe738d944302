/**
 * Entry point. Reads the configuration (a bad setting stops the process with one line naming it),
 * starts a local Kafka when no KAFKA_BROKERS is given (the development default, with the demo
 * topic policy), runs the gateway, and shuts down cleanly on SIGTERM/SIGINT.
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runPrimary } from './cluster.js';
import { ConfigError, loadConfig, type Config } from './config/config.js';
import { startGateway } from './gateway.js';
import { createLogger } from './observability/logger.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

async function main(): Promise<void> {
  let config: Config;
  const env = { ...process.env };
  const embedded = (env.KAFKA_BROKERS ?? '').trim() === '';
  if (embedded && env.TOPICS_CONFIG === undefined) env.TOPICS_CONFIG = path.join(root, 'config/demo/topics.yaml');
  try {
    config = loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`configuration error: ${err.message}`);
      process.exit(2);
    }
    throw err;
  }
  const logger = createLogger(config.logLevel);

  let stopKafka: (() => Promise<void>) | undefined;
  if (embedded) {
    const localKafka = path.join(root, 'scripts/local-kafka.mjs');
    if (!existsSync(localKafka)) {
      // A container image carries no Kafka of its own: say so in one line instead of "Cannot find module".
      console.error('configuration error: KAFKA_BROKERS is not set, and this install has no local Kafka to start');
      process.exit(2);
    }
    logger.info('KAFKA_BROKERS is not set: starting a local Apache Kafka (first run downloads it with Maven)');
    const { startLocalKafka } = (await import(localKafka)) as {
      startLocalKafka: (o: { port?: number }) => Promise<{ brokers: string; stop: () => Promise<void> }>;
    };
    const kafka = await startLocalKafka({ port: Number(env.KAFKA_PORT ?? 9092) });
    config.kafka.brokers = [kafka.brokers];
    stopKafka = kafka.stop;
    logger.info({ brokers: kafka.brokers }, 'local Kafka is up');
  }

  // WORKERS > 1: this process only supervises workers that share the port (src/cluster.ts).
  const gateway =
    config.http.workers > 1 ? { close: await runPrimary(config, logger) } : await startGateway(config, logger);
  let stopping = false;
  const shutdown = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    // The bound operators configure (plus time to stop a local Kafka): whatever is still running
    // then is cut off; its clients see a closed connection, never a 200 for a record not stored.
    const force = setTimeout(
      () => {
        logger.error({ timeoutMs: config.http.shutdownTimeoutMs }, 'shutdown took too long; exiting');
        process.exit(1);
      },
      config.http.shutdownTimeoutMs + (stopKafka === undefined ? 0 : 15_000),
    );
    force.unref();
    void gateway
      .close()
      .then(() => stopKafka?.())
      .then(
        () => {
          logger.info('stopped');
          process.exit(0);
        },
        (err: unknown) => {
          logger.error({ err }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  process.on('SIGINT', () => shutdown('SIGINT'));
}

main().catch((err: unknown) => {
  console.error(`fatal: ${(err as Error).message}`);
  process.exit(1);
});
