// Accuracy-harness Java server: com.sun.net.httpserver with a fixed pool of 4 threads.
// usage: java Server PORT COST_MS sleep|spin
import com.sun.net.httpserver.HttpServer;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

public class Server {
    public static void main(String[] a) throws Exception {
        int port = Integer.parseInt(a[0]);
        long costNs = (long) (Double.parseDouble(a[1]) * 1e6);
        boolean spin = a.length > 2 && a[2].equals("spin");
        HttpServer s = HttpServer.create(new InetSocketAddress("127.0.0.1", port), 128);
        byte[] body = "ok\n".getBytes();
        s.createContext("/work", ex -> {
            if (spin) {
                long end = System.nanoTime() + costNs;
                while (System.nanoTime() < end) { }
            } else {
                try { Thread.sleep(costNs / 1000000, (int) (costNs % 1000000)); } catch (InterruptedException e) { }
            }
            ex.getResponseHeaders().set("Content-Type", "text/plain");
            ex.sendResponseHeaders(200, body.length);
            try (OutputStream o = ex.getResponseBody()) { o.write(body); }
        });
        s.setExecutor(Executors.newFixedThreadPool(4));
        s.start();
    }
}
