/** Everything the GraphQL layer and the CLI need, built once per process over one database. */
import type { Config } from '../config/config.js';
import type { Db } from '../data/db.js';
import { BaselineCache } from './embeddings/baselines.js';
import { InteractionsService } from './interactions/interactions.service.js';
import { KeysService } from './keys/keys.service.js';
import { RequestLoaders } from './loaders.js';
import { ModelsService } from './models/models.service.js';
import { PostsService } from './posts/posts.service.js';
import { SignalsService } from './signals/signals.service.js';
import { UsersService } from './users/users.service.js';

export class Services {
  readonly posts: PostsService;
  readonly users: UsersService;
  readonly interactions: InteractionsService;
  readonly signals: SignalsService;
  readonly keys: KeysService;
  readonly models: ModelsService;
  readonly baselines: BaselineCache;

  constructor(
    readonly db: Db,
    readonly config: Config,
  ) {
    this.posts = new PostsService(db.prisma, config);
    this.users = new UsersService(db.prisma, config);
    this.interactions = new InteractionsService(db.prisma, db.provider, config);
    this.signals = new SignalsService(db.prisma);
    this.keys = new KeysService(db.prisma);
    this.models = new ModelsService(db.prisma);
    this.baselines = new BaselineCache(db.prisma);
  }

  /** Fresh DataLoaders for one request. */
  loaders(): RequestLoaders {
    return new RequestLoaders(this.db.prisma, this.baselines);
  }
}
