/**
 * Confluent Schema Registry's REST API over the embedded registry (schema-registry.openapi.yaml is
 * its contract). Authentication is the main listener's (same methods and credentials, and a
 * sibling's signed hop with PEER_SECRET); with a policy file, subjects are governed through their
 * topic (TopicNameStrategy: `<topic>-key` / `<topic>-value`, any other subject stands for a topic
 * of its own name): reading needs describe, registering a subject's first version needs produce,
 * a new version of an existing subject, deleting and setting a subject's compatibility need
 * admin, the global compatibility needs admin on every topic.
 *
 * Writes run on the leader; a follower forwards them there and relays the answer.
 */
import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from 'pino';
import { Errors, RegistryErrors } from '../core/errors.js';
import { bodyDeadline } from '../http/body-deadline.js';
import { errorHandler } from '../http/errors.js';
import { sendJson } from '../http/respond.js';
import {
  Authenticator,
  authenticationMiddleware,
  peerBodyCheck,
  peerHopMiddleware,
} from '../policy/auth/middleware.js';
import type { PeerProof } from '../policy/auth/peer-proof.js';
import type { Authorizer } from '../policy/authz/authorizer.js';
import { identityOf, type Identity } from '../policy/identity.js';
import type { SecurityConfig } from '../config/security.js';
import type { Operation } from '../policy/authz/policy.js';
import { parseLevel, parseVersion, type EmbeddedRegistry, type SchemaInput } from './registry.js';
import type { LeaderInfo } from './leader.js';
import { SCHEMA_TYPES } from './schemas.js';

export const SR_MEDIA_TYPE = 'application/vnd.schemaregistry.v1+json';
/** Marks a request a follower forwarded to the leader, so it is never forwarded again. */
const FORWARDED = 'x-schema-registry-forwarded';
/** The identity of a replica's own (in-process) registration, forwarded with PEER_SECRET. */
export const INTERNAL_IDENTITY: Identity = { id: 'apikey:schema-registry-internal', kind: 'apikey' };

export type { LeaderInfo };

export interface RegistryHttpOptions {
  registry: EmbeddedRegistry;
  /** Resolves once the whole topic has been read: requests wait for it (the listener opens first). */
  ready: Promise<void>;
  /** Resolves once everything in the topic now has been read here (read-your-writes after a forward). */
  caughtUp: () => Promise<void>;
  /** The leader other than `stale` (undefined: the current one), waiting for an election. */
  leader: (stale?: LeaderInfo) => Promise<LeaderInfo | undefined>;
  auth: SecurityConfig['auth'];
  authorizer: Authorizer;
  peerProof?: PeerProof;
  /** The configured replicas' URLs (PEER_URLS): without PEER_SECRET, the only leaders written to. */
  peerUrls: string[];
  nodeId: string;
  maxBodyBytes: number;
  /** A declared body must arrive within this long of its headers (BODY_TIMEOUT_MS): else 408. */
  bodyTimeoutMs: number;
  timeoutMs: number;
  logger: Logger;
}

/** The topic a subject stands for, for authorization. */
export function topicOfSubject(subject: string): string {
  const m = /^(.+)-(key|value)$/s.exec(subject);
  return m === null ? subject : m[1]!;
}

/**
 * Whether a write may be forwarded to `leaderUrl`, a URL any member of the election group can
 * announce. With PEER_SECRET the caller's identity travels signed and no credential is sent;
 * without it only to a configured replica (PEER_URLS), else a retriable 50003 that says why.
 */
export function checkForwardable(leaderUrl: string, peerProof: PeerProof | undefined, peerUrls: string[]): void {
  if (peerProof !== undefined) return;
  const origin = (u: string) => {
    try {
      return new URL(u).origin;
    } catch {
      return undefined;
    }
  };
  if (peerUrls.some((p) => origin(p) !== undefined && origin(p) === origin(leaderUrl))) return;
  throw RegistryErrors.forwarding(
    `the registry leader ${leaderUrl} is not a configured replica (PEER_URLS) and PEER_SECRET is not set; ` +
      'replicas need PEER_SECRET (the same on each) to forward writes with a signed identity instead of the caller’s credentials',
  );
}

export function registryApp(o: RegistryHttpOptions): express.Express {
  const { registry } = o;
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.use((_req, res, next) => {
    res.locals.responseType = SR_MEDIA_TYPE;
    next();
  });
  app.use(bodyDeadline(o.bodyTimeoutMs));
  app.use((_req, _res, next) => {
    o.ready.then(() => next(), next);
  });
  if (o.peerProof !== undefined) app.use(peerHopMiddleware(o.peerProof, o.logger));
  const authenticator = new Authenticator(o.auth);
  if (authenticator.enabled) app.use(authenticationMiddleware(authenticator, () => false, o.logger));
  // Any media type is read as JSON, as Confluent does for its vendor types, JSON and octet-stream.
  app.use(express.raw({ type: () => true, limit: o.maxBodyBytes }));
  app.use(peerBodyCheck());

  const may = (req: Request, operation: Operation, subject: string) =>
    o.authorizer.may(identityOf(req.res!), operation, { topic: topicOfSubject(subject) });
  const check = (req: Request, operation: Operation, subject: string) => {
    if (!may(req, operation, subject)) {
      const internal = identityOf(req.res!).id === INTERNAL_IDENTITY.id && req.res!.locals.peerHop === true;
      if (!(internal && operation === 'produce'))
        throw Errors.forbidden(
          `Not authorized to ${operation === 'describe' ? 'read' : operation === 'produce' ? 'register schemas under' : 'administer'} subject "${subject}".`,
        );
    }
  };
  const mayReadId = (req: Request, id: number) =>
    !o.authorizer.enabled || registry.idVersions(id, true).some((u) => may(req, 'describe', u.subject));

  const send = (res: Response, body: unknown, status = 200) => {
    const accept = res.req.headers.accept ?? '';
    const type =
      /application\/json/.test(accept) && !/schemaregistry/.test(accept) ? 'application/json' : SR_MEDIA_TYPE;
    sendJson(res, status, type, body);
  };
  const flag = (req: Request, name: string) => String(req.query[name] ?? '') === 'true';
  const idParam = (raw: string): number => {
    if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2 ** 31 - 1) throw RegistryErrors.schemaNotFound();
    return Number(raw);
  };
  const input = (req: Request): SchemaInput => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw Errors.badRequest('The request body is not valid JSON.');
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body))
      throw RegistryErrors.invalidSchema('the request body must be an object with a "schema"');
    return body as SchemaInput;
  };
  const jsonBody = (req: Request): Record<string, unknown> => {
    const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
    try {
      const body = JSON.parse(raw) as unknown;
      if (body !== null && typeof body === 'object' && !Array.isArray(body)) return body as Record<string, unknown>;
    } catch {
      // answered below
    }
    throw Errors.badRequest('The request body is not a JSON object.');
  };

  type Handler = (req: Request, res: Response) => unknown;
  const handle =
    (h: Handler): RequestHandler =>
    (req, res, next) => {
      Promise.resolve()
        .then(() => h(req, res))
        .catch(next);
    };
  /**
   * Runs on the leader; a follower forwards the request there (authorization already done here).
   * A leader that does not answer (it stopped) is asked again once the group elected another.
   */
  const onLeader =
    (h: Handler, verify?: (answer: string) => void): Handler =>
    async (req, res) => {
      // A write another replica forwarded is taken only with its PEER_SECRET proof.
      if (req.headers[FORWARDED] !== undefined && o.peerProof !== undefined && res.locals.peerHop !== true)
        throw Errors.forbidden('A registry write forwarded by another replica needs a valid PEER_SECRET proof.');
      let leader = await o.leader();
      for (let attempt = 0; ; attempt++) {
        if (leader?.self === true) return h(req, res);
        if (leader?.url === undefined || req.headers[FORWARDED] !== undefined) throw RegistryErrors.unknownLeader();
        checkForwardable(leader.url, o.peerProof, o.peerUrls);
        try {
          return await forward(req, res, leader.url, () => o.caughtUp(), verify);
        } catch (err) {
          if (attempt > 0 || !(err instanceof Unreachable)) throw err;
          leader = await o.leader(leader);
        }
      }
    };

  const forward = async (
    req: Request,
    res: Response,
    leaderUrl: string,
    beforeAnswer: () => Promise<void>,
    verify?: (answer: string) => void,
  ) => {
    const body = Buffer.isBuffer(req.body) && req.body.length > 0 ? (req.body as Buffer) : undefined;
    const headers: Record<string, string> = { [FORWARDED]: o.nodeId, accept: SR_MEDIA_TYPE };
    if (body !== undefined) headers['content-type'] = SR_MEDIA_TYPE;
    for (const h of ['authorization', 'x-api-key']) {
      const v = req.headers[h];
      if (typeof v === 'string') headers[h] = v;
    }
    if (o.peerProof !== undefined) {
      delete headers.authorization;
      delete headers['x-api-key'];
      Object.assign(
        headers,
        o.peerProof.sign({
          method: req.method,
          target: req.originalUrl,
          from: o.nodeId,
          identity: identityOf(res),
          body,
          contentType: body === undefined ? undefined : SR_MEDIA_TYPE,
        }),
      );
    }
    let answer: globalThis.Response;
    try {
      answer = await fetch(leaderUrl + req.originalUrl, {
        method: req.method,
        headers,
        body: body === undefined ? undefined : new Uint8Array(body),
        signal: AbortSignal.timeout(o.timeoutMs),
      });
    } catch (err) {
      throw new Unreachable((err as Error).message);
    }
    const text = await answer.text();
    // What the leader wrote is served by this replica too before its client hears of it.
    if (answer.ok) {
      await beforeAnswer();
      verify?.(text);
    }
    res.status(answer.status);
    res.setHeader('Content-Type', answer.headers.get('content-type') ?? SR_MEDIA_TYPE);
    res.end(text);
  };

  const verifyRegistration = (subject: string, schema: SchemaInput, answer: string) => {
    let id: unknown;
    try {
      id = (JSON.parse(answer) as { id?: unknown }).id;
    } catch {
      id = undefined;
    }
    const held = registry.knownId(subject, schema);
    if (held === undefined || held !== id)
      throw RegistryErrors.forwarding(
        `the registry leader answered id ${String(id)}, but this replica read back no such registration of the schema`,
      );
  };

  const router = express.Router();
  router.get(
    '/',
    handle((_req, res) => send(res, {})),
  );
  router.get(
    '/schemas/types',
    handle((_req, res) => send(res, SCHEMA_TYPES)),
  );
  router.get(
    '/subjects',
    handle((req, res) =>
      send(
        res,
        registry.subjects(flag(req, 'deleted')).filter((s) => !o.authorizer.enabled || may(req, 'describe', s)),
      ),
    ),
  );
  router.get(
    '/subjects/:subject/versions',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      send(res, registry.versions(subject, flag(req, 'deleted')));
    }),
  );
  router.post(
    '/subjects/:subject/versions',
    handle((req, res) => {
      const subject = req.params.subject as string;
      // `produce` registers a subject's first version (and re-registers a schema it holds); a new
      // version of an existing subject changes what every producer is checked against: `admin`.
      // (A sibling's in-process registration says which it is by the query, under its signature.)
      const internal = identityOf(res).id === INTERNAL_IDENTITY.id && res.locals.peerHop === true;
      const firstVersionOnly =
        flag(req, 'firstVersionOnly') || (o.authorizer.enabled && !internal && !may(req, 'admin', subject));
      if (firstVersionOnly) check(req, 'produce', subject);
      const schema = input(req);
      // Already registered here: the answer needs no write, so no trip to the leader.
      const known = flag(req, 'normalize') ? undefined : registry.knownId(subject, schema);
      if (known !== undefined) return send(res, { id: known });
      return onLeader(
        async () =>
          send(res, { id: await registry.registerInput(subject, schema, flag(req, 'normalize'), firstVersionOnly) }),
        // The leader's id is answered only once this replica read it back for this schema.
        (answer) => verifyRegistration(subject, schema, answer),
      )(req, res);
    }),
  );
  router.post(
    '/subjects/:subject',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      send(res, registry.lookup(subject, input(req), flag(req, 'normalize'), flag(req, 'deleted')));
    }),
  );
  router.delete(
    '/subjects/:subject',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'admin', subject);
      return onLeader(async () => send(res, await registry.deleteSubject(subject, flag(req, 'permanent'))))(req, res);
    }),
  );
  router.get(
    '/subjects/:subject/versions/:version',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      send(res, registry.getVersion(subject, parseVersion(req.params.version as string), flag(req, 'deleted')));
    }),
  );
  router.get(
    '/subjects/:subject/versions/:version/schema',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      const v = registry.getVersion(subject, parseVersion(req.params.version as string), flag(req, 'deleted'));
      sendRaw(res, v.schema);
    }),
  );
  router.get(
    '/subjects/:subject/versions/:version/referencedby',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      send(res, registry.referencedBy(subject, parseVersion(req.params.version as string)));
    }),
  );
  router.delete(
    '/subjects/:subject/versions/:version',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'admin', subject);
      const version = parseVersion(req.params.version as string);
      return onLeader(async () => send(res, await registry.deleteVersion(subject, version, flag(req, 'permanent'))))(
        req,
        res,
      );
    }),
  );
  const schemaOf = (req: Request) => {
    const id = idParam(req.params.id as string);
    const schema = registry.getSchema(id);
    if (!mayReadId(req, id)) throw RegistryErrors.schemaNotFound(id);
    return { id, schema };
  };
  router.get(
    '/schemas/ids/:id',
    handle((req, res) => {
      const { schema } = schemaOf(req);
      send(res, {
        ...(schema.schemaType !== 'AVRO' ? { schemaType: schema.schemaType } : {}),
        ...(schema.references.length > 0 ? { references: schema.references } : {}),
        schema: schema.schema,
      });
    }),
  );
  router.get(
    '/schemas/ids/:id/schema',
    handle((req, res) => sendRaw(res, schemaOf(req).schema.schema)),
  );
  router.get(
    '/schemas/ids/:id/versions',
    handle((req, res) => {
      const { id } = schemaOf(req);
      send(
        res,
        registry
          .idVersions(id, flag(req, 'deleted'))
          .filter((u) => !o.authorizer.enabled || may(req, 'describe', u.subject)),
      );
    }),
  );
  router.get(
    '/config',
    handle((_req, res) => send(res, { compatibilityLevel: registry.config(undefined, true) })),
  );
  router.put(
    '/config',
    handle((req, res) => {
      const denied = o.authorizer.checkAdminOfAll(req);
      if (denied !== undefined) throw denied;
      const level = parseLevel(jsonBody(req).compatibility);
      return onLeader(async () => send(res, { compatibility: await registry.setConfig(undefined, level) }))(req, res);
    }),
  );
  router.get(
    '/config/:subject',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      send(res, { compatibilityLevel: registry.config(subject, flag(req, 'defaultToGlobal')) });
    }),
  );
  router.put(
    '/config/:subject',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'admin', subject);
      const level = parseLevel(jsonBody(req).compatibility);
      return onLeader(async () => send(res, { compatibility: await registry.setConfig(subject, level) }))(req, res);
    }),
  );
  router.delete(
    '/config/:subject',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'admin', subject);
      return onLeader(async () => send(res, { compatibilityLevel: await registry.deleteConfig(subject) }))(req, res);
    }),
  );
  router.post(
    '/compatibility/subjects/:subject/versions/:version',
    handle((req, res) => {
      const subject = req.params.subject as string;
      check(req, 'describe', subject);
      const problems = registry.checkCompatibility(
        subject,
        parseVersion(req.params.version as string),
        input(req),
        flag(req, 'normalize'),
      );
      send(
        res,
        flag(req, 'verbose')
          ? { is_compatible: problems.length === 0, messages: problems }
          : { is_compatible: problems.length === 0 },
      );
    }),
  );
  app.use(router);
  // Not served: 405 with Allow when the path is a route's with another method, else 404.
  type RouteLayer = { match(path: string): boolean; route?: { methods: Record<string, boolean> } };
  app.use((req: Request, _res: Response, next: NextFunction) => {
    const allowed = new Set<string>();
    for (const layer of router.stack as unknown as RouteLayer[])
      if (layer.route !== undefined && layer.match(req.path))
        for (const m of Object.keys(layer.route.methods)) allowed.add(m.toUpperCase());
    next(allowed.size > 0 ? Errors.methodNotAllowed([...allowed].sort().join(', ')) : Errors.notFound());
  });
  app.use((err: unknown, _req: Request, _res: Response, next: NextFunction) =>
    next(err instanceof Unreachable ? RegistryErrors.forwarding(err.message) : err),
  );
  app.use(
    errorHandler(o.maxBodyBytes, (err, req) =>
      o.logger.error({ err, method: req.method, path: req.path }, 'schema registry request failed'),
    ),
  );
  return app;
}

/** The leader did not answer at all (connection refused, timeout): another may be elected. */
class Unreachable extends Error {}

/** GET …/schema: the schema text itself (a JSON document for Avro and JSON Schema). */
function sendRaw(res: Response, schema: string): void {
  try {
    JSON.parse(schema);
    sendJson(res, 200, SR_MEDIA_TYPE, schema);
  } catch {
    res.status(200).setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end(schema);
  }
}
