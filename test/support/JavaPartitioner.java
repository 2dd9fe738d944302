// Prints the partition the Java Kafka client would choose for each key (args: partitions key...),
// using kafka-clients' own code, so tests compare the gateway with the real thing.
import java.nio.charset.StandardCharsets;
import org.apache.kafka.clients.producer.internals.BuiltInPartitioner;

public class JavaPartitioner {
  public static void main(String[] args) {
    int partitions = Integer.parseInt(args[0]);
    for (int i = 1; i < args.length; i++) {
      byte[] key = args[i].getBytes(StandardCharsets.UTF_8);
      System.out.println(BuiltInPartitioner.partitionForKey(key, partitions));
    }
  }
}
