/**
 * The authorization hooks the routes call. Without a policy file every authenticated caller may do
 * everything (the start-up log says so); with one, only what a rule allows (403, error_code 40301).
 */
import type { Request } from 'express';
import { Errors, type GatewayError } from '../../core/errors.js';
import { identityOf, type Identity } from '../identity.js';
import { may, type Operation, type Policy, type Resource } from './policy.js';

const VERB: Record<Operation, string> = {
  produce: 'produce to',
  consume: 'consume from',
  describe: 'describe',
  admin: 'administer',
};

export function forbidden(operation: Operation, resource: Resource): GatewayError {
  const what = 'topic' in resource ? `topic "${resource.topic}"` : `consumer group "${resource.group}"`;
  return Errors.forbidden(`Not authorized to ${VERB[operation]} ${what}.`);
}

export class Authorizer {
  constructor(private readonly policy: Policy | undefined) {}

  get enabled(): boolean {
    return this.policy !== undefined;
  }

  may(identity: Identity, operation: Operation, resource: Resource): boolean {
    return this.policy === undefined || may(this.policy, identity, operation, resource);
  }

  /** Throws 403 (40301) unless the request's caller may do `operation` on `resource`. */
  check(req: Request, operation: Operation, resource: Resource): void {
    if (!this.may(identityOf(req.res!), operation, resource)) throw forbidden(operation, resource);
  }

  /** Undefined when the caller may administer every topic (a rule granting admin on `*`), else 403. */
  checkAdminOfAll(req: Request): GatewayError | undefined {
    return this.may(identityOf(req.res!), 'admin', { topic: '*' }) ? undefined : forbidden('admin', { topic: '*' });
  }

  /** The hooks the route modules accept. */
  hooks() {
    return {
      authorizeProduce: (req: Request, topic: string) => this.check(req, 'produce', { topic }),
      canDescribe: (req: Request, topic: string) => this.may(identityOf(req.res!), 'describe', { topic }),
      canConsume: (req: Request, topic: string) => this.may(identityOf(req.res!), 'consume', { topic }),
      authorizeDescribe: (req: Request, topic: string) => this.check(req, 'describe', { topic }),
      authorizeGroup: (req: Request, group: string) => this.check(req, 'consume', { group }),
      authorizeTopics: (req: Request, topics: string[]) => {
        for (const topic of topics) this.check(req, 'consume', { topic });
      },
      /** v3: `describe` for reads, `admin` for create, delete and config changes (topics and groups). */
      authorizeV3: (req: Request, operation: 'describe' | 'admin', resource: Resource) =>
        this.check(req, operation, resource),
      mayV3: (req: Request, operation: 'describe' | 'admin', resource: Resource) =>
        this.may(identityOf(req.res!), operation, resource),
    };
  }
}
